using System.Buffers;
using BenchmarkDotNet.Attributes;
using StartTls.Smtp.Benchmarks.Infrastructure;
using StartTls.Smtp.Protocol;

namespace StartTls.Smtp.Benchmarks;

/// <summary>
/// One command line, handled the way <c>SmtpConnection</c> does: <see cref="CommandLineReader.TryRead"/> slices the
/// line off a <see cref="ReadOnlySequence{T}"/>, a line split across segments is copied into a rented array,
/// <see cref="VerbParser.Parse"/> finds the verb, the NUL check runs, and MAIL/RCPT arguments go through
/// <see cref="EnvelopeParser"/>. The <c>*Line</c> rows are framing + verb only and must allocate nothing; the
/// <c>*Envelope</c> rows add the envelope parse, which builds the envelope objects the store receives.
/// </summary>
[MemoryDiagnoser]
public class CommandParsingBenchmarks
{
    private const int MaxCommandLineLength = 1024;

    private static readonly ProtocolSettings Settings = new(new SmtpServerOptions(), "bench.example");

    private ReadOnlySequence<byte> _ehlo;
    private ReadOnlySequence<byte> _mail;
    private ReadOnlySequence<byte> _mailWithParameters;
    private ReadOnlySequence<byte> _rcpt;
    private ReadOnlySequence<byte> _data;
    private ReadOnlySequence<byte> _quit;
    private ReadOnlySequence<byte> _mailSplit;
    private ReadOnlySequence<byte> _group;

    [GlobalSetup]
    public void Setup()
    {
        _ehlo = Line("EHLO client.example.net\r\n");
        _mail = Line("MAIL FROM:<sender@example.net>\r\n");
        _mailWithParameters = Line("MAIL FROM:<sender@example.net> SIZE=1024 BODY=8BITMIME\r\n");
        _rcpt = Line("RCPT TO:<recipient@example.org>\r\n");
        _data = Line("DATA\r\n");
        _quit = Line("QUIT\r\n");

        // A line that straddles two pipe segments (the rare path: copied into a pooled array first).
        var mail = "MAIL FROM:<sender@example.net>\r\n"u8.ToArray();
        _mailSplit = Sequences.SplitAt(mail, 12);

        // A pipelined group as one read: MAIL, two RCPTs, DATA (RFC 2920).
        _group = Line("MAIL FROM:<sender@example.net>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n");

        // Fail fast if the engine disagrees with what these rows claim to measure.
        Expect(EhloLine(), SmtpVerb.Ehlo);
        Expect(MailLine(), SmtpVerb.Mail);
        Expect(RcptLine(), SmtpVerb.Rcpt);
        Expect(DataLine(), SmtpVerb.Data);
        Expect(QuitLine(), SmtpVerb.Quit);
        Expect(MailLineSplitAcrossSegments(), SmtpVerb.Mail);
        if (MailEnvelope() is null || MailEnvelopeWithParameters()?.DeclaredSize != 1024 || RcptEnvelope() is null)
        {
            throw new InvalidOperationException("The envelope parser refused a valid command.");
        }
    }

    // Results are ints and envelope objects: the engine's verb enum is internal, and a public benchmark cannot return it.
    [Benchmark(Description = "EHLO line + verb")]
    public int EhloLine() => ReadVerb(_ehlo);

    [Benchmark(Description = "MAIL line + verb")]
    public int MailLine() => ReadVerb(_mail);

    [Benchmark(Description = "RCPT line + verb")]
    public int RcptLine() => ReadVerb(_rcpt);

    [Benchmark(Description = "DATA line + verb")]
    public int DataLine() => ReadVerb(_data);

    [Benchmark(Description = "QUIT line + verb")]
    public int QuitLine() => ReadVerb(_quit);

    [Benchmark(Description = "MAIL line split over 2 segments + verb")]
    public int MailLineSplitAcrossSegments() => ReadVerb(_mailSplit);

    /// <summary>Four lines from one buffer, as a pipelined group arrives; reported per line.</summary>
    [Benchmark(Description = "Pipelined MAIL/RCPT/RCPT/DATA, per line", OperationsPerInvoke = 4)]
    public int PipelinedGroupPerLine()
    {
        var buffer = _group;
        var lines = default(CommandLineReader);
        var sum = 0;
        while (lines.TryRead(ref buffer, MaxCommandLineLength, out var line) == LineStatus.Line)
        {
            sum += VerbOf(line);
        }

        return sum;
    }

    [Benchmark(Description = "MAIL line + verb + ParseMail")]
    public SmtpEnvelope? MailEnvelope() => ReadMail(_mail);

    [Benchmark(Description = "MAIL SIZE= BODY= line + verb + ParseMail")]
    public SmtpEnvelope? MailEnvelopeWithParameters() => ReadMail(_mailWithParameters);

    [Benchmark(Description = "RCPT line + verb + ParseRcpt")]
    public SmtpRecipient? RcptEnvelope()
    {
        var line = ReadLine(_rcpt);
        var verb = Verb(line.FirstSpan, out var arguments);
        return verb == SmtpVerb.Rcpt && EnvelopeParser.ParseRcpt(arguments, smtpUtf8: false, out var recipient) is null ? recipient : null;
    }

    private static int ReadVerb(ReadOnlySequence<byte> buffer) => VerbOf(ReadLine(buffer));

    private static SmtpEnvelope? ReadMail(ReadOnlySequence<byte> buffer)
    {
        var line = ReadLine(buffer);
        var verb = Verb(line.FirstSpan, out var arguments);
        return verb == SmtpVerb.Mail && EnvelopeParser.ParseMail(arguments, Settings, authOffered: false, out var envelope) is null ? envelope : null;
    }

    private static ReadOnlySequence<byte> ReadLine(ReadOnlySequence<byte> buffer)
    {
        var lines = default(CommandLineReader);
        if (lines.TryRead(ref buffer, MaxCommandLineLength, out var line) != LineStatus.Line)
        {
            throw new InvalidOperationException("Not a complete command line.");
        }

        return line;
    }

    /// <summary>As <c>SmtpConnection.ExecuteAsync</c>: the span in place, or a pooled copy of a line split across segments.</summary>
    private static int VerbOf(in ReadOnlySequence<byte> line)
    {
        if (line.IsSingleSegment)
        {
            return (int)Verb(line.FirstSpan, out _);
        }

        var length = (int)line.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            line.CopyTo(rented);
            return (int)Verb(rented.AsSpan(0, length), out _);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>As <c>SmtpConnection.Execute</c>: the verb, then the NUL check.</summary>
    private static SmtpVerb Verb(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> arguments)
    {
        var verb = VerbParser.Parse(line, out arguments);
        return line.Contains((byte)0) ? SmtpVerb.Unknown : verb;
    }

    private static ReadOnlySequence<byte> Line(string text) => new(System.Text.Encoding.ASCII.GetBytes(text));

    private static void Expect(int actual, SmtpVerb expected)
    {
        if (actual != (int)expected)
        {
            throw new InvalidOperationException($"Expected {expected}, parsed {actual}.");
        }
    }
}
