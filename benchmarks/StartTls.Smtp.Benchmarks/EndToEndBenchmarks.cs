using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Benchmarks;

/// <summary>
/// One session served by <see cref="SmtpServer.ServeAsync(IDuplexPipe, System.Net.EndPoint?, System.Net.EndPoint?, CancellationToken)"/>
/// over a pair of in-memory pipes, storing into <see cref="NullMessageStore"/>. The session (greeting, EHLO) is
/// opened once in GlobalSetup; each operation is one message as a pipelining client sends it: MAIL + RCPT + DATA
/// in one write, wait for 250/250/354, the 1 KB content and its terminator in one write, wait for the 250.
/// Op/s is messages per second on one connection; Allocated is per message, client and server together.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class EndToEndBenchmarks
{
    private const int MessagesPerInvoke = 100;

    private readonly Pipe _toServer = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _toClient = new(new PipeOptions(useSynchronizationContext: false));
    private SmtpServer _server = null!;
    private Task _session = null!;
    private byte[] _group = [];
    private byte[] _content = [];

    [GlobalSetup]
    public void Setup() => SetupAsync().GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => CleanupAsync().GetAwaiter().GetResult();

    /// <summary>One message per operation, <see cref="MessagesPerInvoke"/> per invocation.</summary>
    [Benchmark(Description = "MAIL+RCPT+DATA, 1 KB, one connection, per message", OperationsPerInvoke = MessagesPerInvoke)]
    public async Task<int> Message1K()
    {
        var output = _toServer.Writer;
        var accepted = 0;
        for (var i = 0; i < MessagesPerInvoke; i++)
        {
            await output.WriteAsync(_group);
            Check(await ReadReplyAsync(), 250);
            Check(await ReadReplyAsync(), 250);
            Check(await ReadReplyAsync(), 354);
            await output.WriteAsync(_content);
            Check(await ReadReplyAsync(), 250);
            accepted++;
        }

        return accepted;
    }

    private async Task SetupAsync()
    {
        var options = new SmtpServerOptions { ServerName = "bench.example" };
        _server = new SmtpServer(options, NullMessageStore.Instance);
        _session = _server.ServeAsync(new DuplexPipe(_toServer.Reader, _toClient.Writer), null, null);

        _group = Encoding.ASCII.GetBytes("MAIL FROM:<sender@example.net>\r\nRCPT TO:<recipient@example.org>\r\nDATA\r\n");
        var (wire, _) = MessageText.Build(1024 + 3);
        _content = wire;

        await ExpectAsync(220);
        await _toServer.Writer.WriteAsync(Encoding.ASCII.GetBytes("EHLO client.example.net\r\n"));
        await ExpectAsync(250);
        if (await Message1K() != MessagesPerInvoke)
        {
            throw new InvalidOperationException("Not every message was accepted.");
        }
    }

    private async Task CleanupAsync()
    {
        await _toServer.Writer.WriteAsync(Encoding.ASCII.GetBytes("QUIT\r\n"));
        await ExpectAsync(221);
        await _toServer.Writer.CompleteAsync();
        await _session.WaitAsync(TimeSpan.FromSeconds(10));
        await _toClient.Reader.CompleteAsync();
        await _server.DisposeAsync();
    }

    private async Task ExpectAsync(int expected) => Check(await ReadReplyAsync(), expected);

    /// <summary>Reads one reply and returns its code; pooled, so the client side adds no allocation per reply.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadReplyAsync()
    {
        var input = _toClient.Reader;
        while (true)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            if (TryReadReply(ref buffer, out var code))
            {
                input.AdvanceTo(buffer.Start);
                return code;
            }

            input.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                throw new InvalidOperationException("The server closed the connection.");
            }
        }
    }

    /// <summary>Takes one complete reply (every line up to the one with a space after the code) off the buffer.</summary>
    private static bool TryReadReply(ref ReadOnlySequence<byte> buffer, out int code)
    {
        var reader = new SequenceReader<byte>(buffer);
        code = 0;
        Span<byte> head = stackalloc byte[4];
        while (reader.TryReadTo(out ReadOnlySequence<byte> line, "\r\n"u8))
        {
            if (line.Length < 4)
            {
                throw new InvalidOperationException("A reply line shorter than its code.");
            }

            line.Slice(0, 4).CopyTo(head);
            if (head[3] == (byte)' ')
            {
                code = ((head[0] - '0') * 100) + ((head[1] - '0') * 10) + (head[2] - '0');
                buffer = buffer.Slice(reader.Position);
                return true;
            }
        }

        return false;
    }

    private static void Check(int code, int expected)
    {
        if (code != expected)
        {
            throw new InvalidOperationException($"Expected {expected}, the server replied {code}.");
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(StatisticColumn.OperationsPerSecond);
    }
}
