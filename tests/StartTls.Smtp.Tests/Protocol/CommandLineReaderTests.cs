using System.Buffers;
using System.Text;
using StartTls.Smtp.Protocol;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// The bounded command line reader, fed every input whole and split at every byte boundary: as one sequence of 1, 2
/// or 3 segments, and as 1, 2 or 3 arrivals where the unread rest is kept (the way the pipe presents it).
/// </summary>
/// <remarks>Serial: the 512-octet cases spread over all cores, which would starve the timing-sensitive socket tests.</remarks>
[Collection(SerialTests.Name)]
public sealed class CommandLineReaderTests
{
    private static readonly string Exact512 = "NOOP " + new string('x', 505) + "\r\n";
    private static readonly string Over512 = "NOOP " + new string('x', 506) + "\r\n";

    public static TheoryData<string, int, string[], string> Cases => new()
    {
        { "NOOP\r\n", 16, ["Line:NOOP"], "" },
        { "EHLO a\r\nMAIL FROM:<a@b>\r\nRCPT", 32, ["Line:EHLO a", "Line:MAIL FROM:<a@b>"], "RCPT" },
        { "\r\n\r\nX\r\n", 16, ["Line:", "Line:", "Line:X"], "" },
        { "NOOP\r", 16, [], "NOOP\r" },
        { "", 16, [], "" },

        // Exactly at the limit (the limit counts the CRLF): accepted; one more octet: refused and resynchronised.
        { "NOOP xxxxxxxxx\r\nNOOP\r\n", 16, ["Line:NOOP xxxxxxxxx", "Line:NOOP"], "" },
        { "NOOP xxxxxxxxxx\r\nNOOP\r\n", 16, ["TooLong", "Line:NOOP"], "" },
        { "NOOP xxxxxxxxxxx", 16, [], "" },
        { "NOOP xxxxxxxxxx", 16, [], "NOOP xxxxxxxxxx" },
        { "NOOP xxxxxxxxx\r", 16, [], "NOOP xxxxxxxxx\r" },
        { "NOOP xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nQUIT\r\n", 16, ["TooLong", "Line:QUIT"], "" },

        // Discard mode ends at the next LF whatever precedes it, and never runs the tail of the long line (T27).
        { "NOOP xxxxxxxxxxxMAIL FROM:<e@c.test>\r\nRCPT TO:<b@s>\r\n", 16, ["TooLong", "Line:RCPT TO:<b@s>"], "" },
        { "xxxxxxxxxxxxxxxxxxxx\rMAIL\r\nNOOP\r\n", 16, ["TooLong", "Line:NOOP"], "" },
        { "xxxxxxxxxxxxxxxxxxxx\nNOOP\r\n", 16, ["TooLong", "Line:NOOP"], "" },
        { "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\nNOOP\r\n", 16, ["TooLong", "TooLong", "Line:NOOP"], "" },

        // Bare LF and bare CR (T28).
        { "\n", 16, ["BareLineFeed"], "" },
        { "NOOP\nQUIT\r\n", 16, ["BareLineFeed", "Line:QUIT"], "" },
        { "STARTTLS\nNOOP\n", 16, ["BareLineFeed", "BareLineFeed"], "" },
        { "EHLO c\rMAIL x\r\n", 32, ["BareCarriageReturn"], "" },
        { "NOOP\r\r\n", 16, ["BareCarriageReturn"], "" },
        { "\rNOOP\r\nQUIT\r\n", 16, ["BareCarriageReturn", "Line:QUIT"], "" },
        { "EHLO c.test\nMAIL FROM:<a@c.test>\r\n", 64, ["BareLineFeed", "Line:MAIL FROM:<a@c.test>"], "" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reads_the_same_lines_however_the_input_is_split(string input, int maxLength, string[] expected, string expectedRest)
    {
        var data = SequenceBuilder.Bytes(input);
        var (events, rest) = ReadWhole(new ReadOnlySequence<byte>(data), maxLength);
        events.Should().Equal(expected);
        rest.Should().Be(expectedRest);

        AssertEverySplit(data, maxLength, expected, expectedRest);
    }

    [Fact]
    public void A_512_octet_command_is_accepted_at_the_512_limit_however_it_is_split()
    {
        // T25: 'NOOP ' + 505 x + CRLF is exactly 512 octets.
        var data = SequenceBuilder.Bytes(Exact512 + "QUIT\r\n");
        Exact512.Length.Should().Be(512);
        AssertEverySplit(data, 512, ["Line:" + Exact512[..^2], "Line:QUIT"], "");
    }

    [Fact]
    public void A_513_octet_command_is_refused_at_the_512_limit_however_it_is_split()
    {
        var data = SequenceBuilder.Bytes(Over512 + "QUIT\r\n");
        Over512.Length.Should().Be(513);
        AssertEverySplit(data, 512, ["TooLong", "Line:QUIT"], "");
    }

    [Fact]
    public void An_endless_line_is_dropped_as_it_arrives_and_never_held()
    {
        var reader = new CommandLineReader();
        var chunk = new byte[4096];
        chunk.AsSpan().Fill((byte)'A');
        for (var i = 0; i < 256; i++)
        {
            var buffer = new ReadOnlySequence<byte>(chunk);
            reader.TryRead(ref buffer, 512, out _).Should().Be(LineStatus.Incomplete);
            buffer.Length.Should().Be(0, "a line over the limit is consumed, not buffered");
            reader.IsDiscarding.Should().BeTrue();
        }

        var end = new ReadOnlySequence<byte>("AAA\r\nNOOP\r\n"u8.ToArray());
        reader.TryRead(ref end, 512, out _).Should().Be(LineStatus.TooLong);
        reader.IsDiscarding.Should().BeFalse();
        reader.TryRead(ref end, 512, out var line).Should().Be(LineStatus.Line);
        Encoding.ASCII.GetString(line.ToArray()).Should().Be("NOOP");
    }

    [Fact]
    public void An_incomplete_line_under_the_limit_is_left_in_the_buffer()
    {
        var reader = new CommandLineReader();
        var buffer = new ReadOnlySequence<byte>(SequenceBuilder.Bytes(new string('x', 511)));
        reader.TryRead(ref buffer, 512, out _).Should().Be(LineStatus.Incomplete);
        buffer.Length.Should().Be(511);
        reader.IsDiscarding.Should().BeFalse();
    }

    /// <summary>Feeds every 1-, 2- and 3-piece split both ways; assertions run only on a mismatch, to keep it fast.</summary>
    private static void AssertEverySplit(byte[] data, int maxLength, string[] expected, string expectedRest)
    {
        var expectedEvents = expected.Select(e => e.StartsWith("Line:", StringComparison.Ordinal)
            ? (LineStatus.Line, SequenceBuilder.Bytes(e[5..]))
            : (Enum.Parse<LineStatus>(e), Array.Empty<byte>())).ToArray();
        var expectedRestBytes = SequenceBuilder.Bytes(expectedRest);
        // Over 270,000 runs for a 512-octet line: spread them over the cores.
        Parallel.ForEach(SequenceBuilder.AllSplits(data.Length), split =>
        {
            if (MatchesWhole(SequenceBuilder.Split(data, split), maxLength, expectedEvents, expectedRestBytes)
                && MatchesArriving(SequenceBuilder.Slices(data, split), maxLength, expectedEvents, expectedRestBytes))
            {
                return;
            }

            var whole = ReadWhole(SequenceBuilder.Split(data, split), maxLength);
            if (!whole.Events.SequenceEqual(expected) || whole.Remainder != expectedRest)
            {
                whole.Events.Should().Equal(expected, "the input was one sequence split at [{0}]", string.Join(",", split));
                whole.Remainder.Should().Be(expectedRest, "the input was one sequence split at [{0}]", string.Join(",", split));
            }

            var arriving = ReadArriving(SequenceBuilder.Pieces(data, split), maxLength);
            if (!arriving.Events.SequenceEqual(expected) || arriving.Remainder != expectedRest)
            {
                arriving.Events.Should().Equal(expected, "the input arrived in pieces split at [{0}]", string.Join(",", split));
                arriving.Remainder.Should().Be(expectedRest, "the input arrived in pieces split at [{0}]", string.Join(",", split));
            }
        });
    }

    private static bool MatchesWhole(ReadOnlySequence<byte> buffer, int maxLength, (LineStatus Status, byte[] Line)[] expected, byte[] rest)
    {
        var reader = new CommandLineReader();
        var index = 0;
        return Matches(ref reader, ref buffer, maxLength, expected, ref index) && index == expected.Length && Equal(buffer, rest);
    }

    private static bool MatchesArriving(ReadOnlyMemory<byte>[] pieces, int maxLength, (LineStatus Status, byte[] Line)[] expected, byte[] rest)
    {
        var reader = new CommandLineReader();
        var index = 0;
        var buffer = ReadOnlySequence<byte>.Empty;
        foreach (var piece in pieces)
        {
            // The unread rest stays in front of the new piece, as a pipe presents it.
            buffer = buffer.IsEmpty ? new ReadOnlySequence<byte>(piece) : SequenceBuilder.Create(buffer.ToArray(), piece);
            if (!Matches(ref reader, ref buffer, maxLength, expected, ref index))
            {
                return false;
            }
        }

        return index == expected.Length && Equal(buffer, rest);
    }

    private static bool Matches(ref CommandLineReader reader, ref ReadOnlySequence<byte> buffer, int maxLength, (LineStatus Status, byte[] Line)[] expected, ref int index)
    {
        while (true)
        {
            var status = reader.TryRead(ref buffer, maxLength, out var line);
            if (status == LineStatus.Incomplete)
            {
                return true;
            }

            if (index >= expected.Length || expected[index].Status != status || (status == LineStatus.Line && !Equal(line, expected[index].Line)))
            {
                return false;
            }

            index++;
        }
    }

    private static bool Equal(ReadOnlySequence<byte> sequence, ReadOnlySpan<byte> expected)
    {
        if (sequence.Length != expected.Length)
        {
            return false;
        }

        foreach (var segment in sequence)
        {
            if (!segment.Span.SequenceEqual(expected[..segment.Length]))
            {
                return false;
            }

            expected = expected[segment.Length..];
        }

        return true;
    }

    private static (List<string> Events, string Remainder) ReadWhole(ReadOnlySequence<byte> buffer, int maxLength)
    {
        var reader = new CommandLineReader();
        var events = new List<string>();
        Drain(ref reader, ref buffer, maxLength, events);
        return (events, Encoding.Latin1.GetString(buffer.ToArray()));
    }

    /// <summary>Each piece arrives after the previous ones were read; the unread rest stays in front, as in a pipe.</summary>
    private static (List<string> Events, string Remainder) ReadArriving(byte[][] pieces, int maxLength)
    {
        var reader = new CommandLineReader();
        var events = new List<string>();
        var rest = Array.Empty<byte>();
        foreach (var piece in pieces)
        {
            var buffer = SequenceBuilder.Create(rest, piece);
            Drain(ref reader, ref buffer, maxLength, events);
            rest = buffer.ToArray();
        }

        return (events, Encoding.Latin1.GetString(rest));
    }

    private static void Drain(ref CommandLineReader reader, ref ReadOnlySequence<byte> buffer, int maxLength, List<string> events)
    {
        while (true)
        {
            var status = reader.TryRead(ref buffer, maxLength, out var line);
            if (status == LineStatus.Incomplete)
            {
                return;
            }

            events.Add(status == LineStatus.Line ? "Line:" + Encoding.Latin1.GetString(line.ToArray()) : status.ToString());
        }
    }
}
