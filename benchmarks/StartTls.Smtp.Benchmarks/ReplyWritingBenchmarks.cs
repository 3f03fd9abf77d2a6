using System.Buffers;
using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using StartTls.Smtp.Protocol;

namespace StartTls.Smtp.Benchmarks;

/// <summary>
/// The replies to one pipelined group (MAIL, RCPT, RCPT, DATA: 250, 250, 250, 354), written the way the connection
/// writes them: each reply's cached <see cref="SmtpReply.WireBytes"/> copied into the output. Compared with a pipe
/// (write, flush, the transport side reads), with encoding every time, and with the 9-line EHLO reply.
/// </summary>
[MemoryDiagnoser]
public class ReplyWritingBenchmarks
{
    // The connection's own 354 is a private static; this is the same reply.
    private static readonly SmtpReply StartMailInput = new(354, null, "Start mail input; end with <CRLF>.<CRLF>");

    private readonly SmtpReply[] _group = [SmtpReply.SenderOk, SmtpReply.RecipientOk, SmtpReply.RecipientOk, StartMailInput];
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private readonly Pipe _pipe = new(new PipeOptions(useSynchronizationContext: false));
    private SmtpReply _ehlo = null!;

    [GlobalSetup]
    public void Setup()
    {
        _ehlo = new ProtocolSettings(new SmtpServerOptions(), "bench.example").EhloReply;
        const string expected = "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n250 2.1.5 Recipient OK\r\n354 Start mail input; end with <CRLF>.<CRLF>\r\n";
        var length = GroupWireBytes();
        var written = System.Text.Encoding.ASCII.GetString(_buffer.WrittenSpan);
        if (written != expected || GroupThroughPipe() != length || GroupEncodedEachTime() != length)
        {
            throw new InvalidOperationException("Unexpected replies: " + written);
        }
    }

    [Benchmark(Baseline = true, Description = "250,250,250,354 WireBytes -> ArrayBufferWriter")]
    public int GroupWireBytes()
    {
        _buffer.ResetWrittenCount();
        foreach (var reply in _group)
        {
            _buffer.Write(reply.WireBytes);
        }

        return _buffer.WrittenCount;
    }

    [Benchmark(Description = "250,250,250,354 WireBytes -> Pipe, flush, read")]
    public int GroupThroughPipe()
    {
        var writer = _pipe.Writer;
        foreach (var reply in _group)
        {
            writer.Write(reply.WireBytes);
        }

        // Nobody is waiting on the reader and the pipe is far below its pause threshold: the flush completes synchronously.
        var flush = writer.FlushAsync();
        if (!flush.IsCompletedSuccessfully)
        {
            throw new InvalidOperationException("The flush did not complete synchronously.");
        }

        _ = flush.Result;
        if (!_pipe.Reader.TryRead(out var result))
        {
            throw new InvalidOperationException("The pipe had nothing to read.");
        }

        var length = (int)result.Buffer.Length;
        _pipe.Reader.AdvanceTo(result.Buffer.End);
        return length;
    }

    [Benchmark(Description = "250,250,250,354 encoded each time (no cache)")]
    public int GroupEncodedEachTime()
    {
        _buffer.ResetWrittenCount();
        foreach (var reply in _group)
        {
            ReplyEncoder.Write(_buffer, reply);
        }

        return _buffer.WrittenCount;
    }

    [Benchmark(Description = "EHLO reply (multiline) WireBytes -> ArrayBufferWriter")]
    public int EhloWireBytes()
    {
        _buffer.ResetWrittenCount();
        _buffer.Write(_ehlo.WireBytes);
        return _buffer.WrittenCount;
    }
}
