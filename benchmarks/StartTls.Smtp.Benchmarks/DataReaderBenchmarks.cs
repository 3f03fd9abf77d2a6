using System.Buffers;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using StartTls.Smtp.Benchmarks.Infrastructure;
using StartTls.Smtp.Protocol;

namespace StartTls.Smtp.Benchmarks;

/// <summary>
/// <see cref="DataReader.Process(in ReadOnlySequence{byte}, IBufferWriter{byte}?, out SequencePosition)"/> over a
/// whole message (content + <c>.CRLF</c> terminator) held as a multi-segment sequence of 4 KB segments, the way a
/// pipe hands it over. Output goes to a writer that discards it, so the row is the reader's own cost. MB/s counts
/// input bytes.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(Config))]
public class DataReaderBenchmarks
{
    private const int SegmentSize = 4096;

    private readonly NullBufferWriter _output = new();
    private ReadOnlySequence<byte> _input;
    private long _expectedOutput;

    /// <summary>Bytes on the wire, terminator included: 1 KB, 100 KB, 10 MB.</summary>
    [Params(1024, 100 * 1024, 10 * 1024 * 1024)]
    public int BodySize { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var (wire, content) = MessageText.Build(BodySize);
        _input = Sequences.Segmented(wire, SegmentSize);
        _expectedOutput = content;
        if (Process() != (int)DataStatus.Completed || _output.Written != _expectedOutput)
        {
            throw new InvalidOperationException($"DataReader did not complete the message: wrote {_output.Written} of {_expectedOutput} bytes.");
        }
    }

    [Benchmark(Description = "DataReader.Process, 4 KB segments")]
    public int Process()
    {
        _output.Reset();
        var reader = new DataReader(long.MaxValue, 1000, BareLineEndingHandling.Reject);
        return (int)reader.Process(_input, _output, out _);
    }

    private sealed class Config : ManualConfig
    {
        public Config() => AddColumn(new ThroughputColumn(nameof(BodySize)));
    }
}

/// <summary>Realistic message text: headers, then ~78-character lines of words, one line in 20 dot-stuffed.</summary>
internal static class MessageText
{
    private static readonly string[] Words =
    [
        "the", "server", "reads", "message", "content", "as", "it", "streams", "in", "and", "never", "holds", "a",
        "whole", "line", "pipelines", "segment", "buffer", "mail", "transfer", "protocol", "envelope", "recipient",
        "sender", "delivery", "status", "notification", "quoted-printable", "base64", "attachment", "of", "to", "with",
    ];

    /// <summary>
    /// Builds exactly <paramref name="wireSize"/> bytes: the dot-stuffed content ending in CRLF, then <c>.CRLF</c>.
    /// Returns the wire bytes and the length of the content once unstuffed.
    /// </summary>
    public static (byte[] Wire, long ContentLength) Build(int wireSize)
    {
        var random = new Random(5321);
        var text = new StringBuilder(wireSize);
        text.Append("From: Sender <sender@example.net>\r\n")
            .Append("To: Recipient <recipient@example.org>\r\n")
            .Append("Subject: Benchmark message\r\n")
            .Append("Message-ID: <bench.1@example.net>\r\n")
            .Append("MIME-Version: 1.0\r\n")
            .Append("Content-Type: text/plain; charset=us-ascii\r\n")
            .Append("\r\n");

        var stuffed = 0;
        var lineNumber = 0;
        const int terminator = 3; // ".\r\n"
        while (text.Length + 80 + 80 + terminator < wireSize)
        {
            var start = text.Length;
            if (++lineNumber % 20 == 0)
            {
                // A line that starts with a dot is sent with one more (RFC 5321 §4.5.2).
                text.Append("..");
                stuffed++;
            }

            while (text.Length - start < 70)
            {
                if (text.Length > start && text[^1] != '.')
                {
                    text.Append(' ');
                }

                text.Append(Words[random.Next(Words.Length)]);
            }

            text.Append("\r\n");
        }

        // Pad with one last line so the wire size is exact; it never starts with a dot.
        var pad = wireSize - text.Length - terminator - 2;
        if (pad < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(wireSize), wireSize, "Too small for the headers.");
        }

        text.Append('x', pad).Append("\r\n").Append(".\r\n");
        var wire = Encoding.ASCII.GetBytes(text.ToString());
        return (wire, wire.Length - terminator - stuffed);
    }
}
