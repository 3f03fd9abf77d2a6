using System.Buffers;
using System.Text;
using StartTls.Smtp.Protocol;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// DATA content: dot-unstuffing, the only terminator, bare line endings and NUL in both modes, the smuggling
/// sequences of docs/threat-model.md (T34), line and size limits; every input also fed split at every byte boundary.
/// </summary>
public sealed class DataReaderTests
{
    private const string Tail = "\r\nMAIL FROM:<spoof@c.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\nSubject: smuggled\r\n\r\ny\r\n.\r\n";

    /// <summary>docs/threat-model.md (T34): every sequence of the SEC Consult tool (old, inbound and outbound lists) and smtpsmug.</summary>
    public static TheoryData<string> SmugglingSequences => new()
    {
        "\n.\n",
        "\n.\r",
        "\r.\n",
        "\r.\r",
        "\n.\r\n",
        "\r\n.\n",
        "\r.\r\n",
        "\r\n.\r",
        "\r\n\0.\r\n",
        "\r\n.\0\r\n",
        "\r\n.\r\r\n",
        "\r\r\n.\r\r\n",
    };

    public static TheoryData<string, string, string, int> Cases => new()
    {
        // input, expected status, expected content, expected consumed offset (-1 = all)
        { ".\r\n", "Completed", "", -1 },
        { "hi\r\n.\r\n", "Completed", "hi\r\n", -1 },
        { "\r\n.\r\n", "Completed", "\r\n", -1 },
        { "a\r\n\r\n.\r\n", "Completed", "a\r\n\r\n", -1 },
        { "..x\r\n..\r\n. y\r\n.\r\n", "Completed", ".x\r\n.\r\n y\r\n", -1 }, // T32
        { ".x\r\n.\r\n", "Completed", "x\r\n", -1 }, // stuffing on the first line too
        { "..\r\n.\r\n", "Completed", ".\r\n", -1 },
        { "...\r\n.\r\n", "Completed", "..\r\n", -1 },
        { "a.\r\n.a\r\n.\r\n", "Completed", "a.\r\na\r\n", -1 },
        { "a\r\n.\r\nMAIL FROM:<x@c.test>\r\n", "Completed", "a\r\n", 6 },
        { ".\r\n.\r\n", "Completed", "", 3 },
        { "a\r\n", "NeedMoreData", "a\r\n", -1 },
        { "a\r\n.", "NeedMoreData", "a\r\n", -1 },
        { "a\r\n.\r", "NeedMoreData", "a\r\n", -1 },
        { "a\r", "NeedMoreData", "a", -1 },
        { "", "NeedMoreData", "", -1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Reads_content_the_same_however_it_is_split(string input, string status, string content, int consumed)
    {
        foreach (var mode in new[] { BareLineEndingHandling.Reject, BareLineEndingHandling.Normalize })
        {
            AssertEverySplit(input, mode, status, content, consumed == -1 ? input.Length : consumed);
        }
    }

    [Fact]
    public void A_representative_message_gives_the_same_result_at_every_split()
    {
        const string message = "From: a@c.test\r\n\r\n..x\r\n..\r\n. y\r\nend\r\n.\r\nQUIT\r\n";
        const string content = "From: a@c.test\r\n\r\n.x\r\n.\r\n y\r\nend\r\n";
        foreach (var mode in new[] { BareLineEndingHandling.Reject, BareLineEndingHandling.Normalize })
        {
            AssertEverySplit(message, mode, "Completed", content, message.Length - "QUIT\r\n".Length);
        }
    }

    [Theory]
    [InlineData("a\nb\r\n.\r\n", "BareLineEnding", "a", 1)]
    [InlineData("a\rb\r\n.\r\n", "BareLineEnding", "a", 2)]
    [InlineData("a\r\r\n.\r\n", "BareLineEnding", "a", 2)]
    [InlineData("\n.\r\n", "BareLineEnding", "", 0)]
    [InlineData(".\n", "BareLineEnding", "", 1)]
    [InlineData(".\r.\r\n", "BareLineEnding", "", 2)]
    [InlineData("a\0b\r\n.\r\n", "Nul", "a", 1)]
    [InlineData("\0\r\n.\r\n", "Nul", "", 0)]
    [InlineData(".\0\r\n.\r\n", "Nul", "", 1)]
    [InlineData("a\nb\r\nc\rd\r\ne\0f\r\n.\r\n", "BareLineEnding", "a", 1)] // T35
    public void Reject_mode_stops_at_the_first_bare_line_ending_or_nul(string input, string status, string content, int consumed)
        => AssertEverySplit(input, BareLineEndingHandling.Reject, status, content, consumed);

    [Theory]
    [InlineData("a\nb\r\n.\r\n", "Completed", "a\r\nb\r\n", -1)]
    [InlineData("a\rb\r\n.\r\n", "Completed", "a\r\nb\r\n", -1)]
    [InlineData("a\r\r\n.\r\n", "Completed", "a\r\n\r\n", -1)]
    [InlineData("a\n\n.\r\n", "NeedMoreData", "a\r\n\r\n.\r\n", -1)]
    [InlineData(".\n.\r\n", "NeedMoreData", ".\r\n.\r\n", -1)]
    [InlineData(".\r.\r\n", "NeedMoreData", ".\r\n.\r\n", -1)]
    [InlineData("\n.\r\n.\r\n", "Completed", "\r\n.\r\n", -1)]
    [InlineData("a\0b\r\n.\r\n", "Nul", "a", 1)]
    [InlineData("a\r\0\r\n.\r\n", "Nul", "a\r\n", 2)]
    [InlineData("a\nb\r\nc\rd\r\ne\0f\r\n.\r\n", "Nul", "a\r\nb\r\nc\r\nd\r\ne", 11)] // T35
    public void Normalize_mode_turns_bare_line_endings_into_crlf_and_still_refuses_nul(string input, string status, string content, int consumed)
        => AssertEverySplit(input, BareLineEndingHandling.Normalize, status, content, consumed == -1 ? input.Length : consumed);

    [Theory]
    [InlineData("a\n.x\r\n.\r\n", "a\r\nx\r\n")] // the bug: ".x" after a bare LF was stored as is
    [InlineData("a\n..x\r\n.\r\n", "a\r\n.x\r\n")] // the bug: "..x" after a bare LF was stored as "..x"
    [InlineData("a\n..\r\n.\r\n", "a\r\n.\r\n")]
    [InlineData("a\n...\r\n.\r\n", "a\r\n..\r\n")]
    [InlineData("a\n..x\n..y\n\r\n.\r\n", "a\r\n.x\r\n.y\r\n\r\n")]
    [InlineData(".\n..x\r\n.\r\n", ".\r\n.x\r\n")]
    [InlineData("\n..x\r\n.\r\n", "\r\n.x\r\n")]
    [InlineData("a\n. y\r\n.\r\n", "a\r\n y\r\n")]
    [InlineData("a\r.x\r\n.\r\n", "a\r\n.x\r\n")] // after a bare CR the line is stored as it came
    [InlineData("a\r..x\r\n.\r\n", "a\r\n..x\r\n")]
    [InlineData("a\r\n.x\rb\n..c\r\n.\r\n", "a\r\nx\r\nb\r\n.c\r\n")]
    public void Normalize_mode_unstuffs_the_line_after_a_bare_lf_but_not_after_a_bare_cr(string input, string content)
        => AssertEverySplit(input, BareLineEndingHandling.Normalize, "Completed", content, input.Length);

    [Theory]
    [InlineData("x\n.\r\n", "x\r\n.\r\n")]
    [InlineData("x\r\n\n.\r\n", "x\r\n\r\n.\r\n")]
    [InlineData("\n.\r\n", "\r\n.\r\n")]
    [InlineData("x\n.\n", "x\r\n.\r\n")]
    [InlineData("x\r\n.\n", "x\r\n.\r\n")]
    [InlineData("x\n.\r", "x\r\n")]
    [InlineData("x\n.\rb", "x\r\n.\r\nb")]
    public void Normalize_mode_keeps_a_lone_dot_after_a_bare_lf_as_text_and_reads_on(string input, string content)
        => AssertEverySplit(input, BareLineEndingHandling.Normalize, "NeedMoreData", content, input.Length);

    [Theory]
    [InlineData("x\n.\r\n.\r\n", "Completed", "x\r\n.\r\n", 8)]
    [InlineData("x\n.\r\n.\r\nQUIT\r\n", "Completed", "x\r\n.\r\n", 8)]
    [InlineData("x\n.\n.\r\n", "NeedMoreData", "x\r\n.\r\n.\r\n", 7)]
    [InlineData("x\n.\n\r\n.\r\n", "Completed", "x\r\n.\r\n\r\n", 9)]
    public void Normalize_mode_ends_only_at_a_real_crlf_dot_crlf_after_a_lone_dot_line(string input, string status, string content, int consumed)
        => AssertEverySplit(input, BareLineEndingHandling.Normalize, status, content, consumed);

    [Theory]
    [InlineData("a\n.\0\r\n.\r\n", "a\r\n", 3)]
    [InlineData("a\n..\0\r\n.\r\n", "a\r\n.", 4)]
    [InlineData("a\n.\r\0\r\n.\r\n", "a\r\n.\r\n", 4)]
    public void Normalize_mode_refuses_nul_after_a_bare_lf_dot(string input, string content, int consumed)
        => AssertEverySplit(input, BareLineEndingHandling.Normalize, "Nul", content, consumed);

    [Fact]
    public void A_python_smtplib_bytes_message_with_bare_lf_is_stored_as_written_at_every_split()
    {
        // What smtplib.sendmail() puts on the wire for b"Subject: s\n\n.x\n..y\n.\nend\n": a dot doubled after
        // every LF, then CRLF (the message did not end in CRLF) and the terminator.
        const string wire = "Subject: s\n\n..x\n...y\n..\nend\n\r\n.\r\n";
        const string content = "Subject: s\r\n\r\n.x\r\n..y\r\n.\r\nend\r\n\r\n";
        AssertEverySplit(wire, BareLineEndingHandling.Normalize, "Completed", content, wire.Length);
        AssertEverySplit(wire, BareLineEndingHandling.Reject, "BareLineEnding", "Subject: s", 10);
    }

    [Fact]
    public void The_line_limit_does_not_count_the_stuffing_dot_after_a_bare_lf()
    {
        var reader = NewReader(BareLineEndingHandling.Normalize);
        Process(ref reader, "a\n." + new string('b', 998) + "\r\n.\r\n", null).Should().Be(DataStatus.Completed);
        reader.LineTooLong.Should().BeFalse();
        reader.Size.Should().Be(3 + 1000);

        reader = NewReader(BareLineEndingHandling.Normalize);
        Process(ref reader, "a\n." + new string('b', 999) + "\r\n.\r\n", null).Should().Be(DataStatus.Completed);
        reader.LineTooLong.Should().BeTrue();
    }

    [Theory]
    [MemberData(nameof(SmugglingSequences))]
    public void Reject_mode_never_ends_the_message_at_a_smuggling_sequence(string sequence)
    {
        var input = "x\r\n" + sequence + Tail;
        var expected = sequence.Contains('\0', StringComparison.Ordinal) ? "Nul" : "BareLineEnding";
        var whole = Run(input, BareLineEndingHandling.Reject, []);
        whole.Status.Should().Be(expected);
        whole.Consumed.Should().BeLessThanOrEqualTo(3 + sequence.Length, "the reader stops inside the sequence or at the byte that shows it is bare");
        AssertEverySplit(input, BareLineEndingHandling.Reject, whole.Status, whole.Content, whole.Consumed);
    }

    [Theory]
    [MemberData(nameof(SmugglingSequences))]
    public void Normalize_mode_never_ends_the_message_at_a_smuggling_sequence(string sequence)
    {
        var input = "x\r\n" + sequence + Tail;
        var whole = Run(input, BareLineEndingHandling.Normalize, []);
        if (sequence.Contains('\0', StringComparison.Ordinal))
        {
            whole.Status.Should().Be("Nul");
            whole.Consumed.Should().BeLessThanOrEqualTo(3 + sequence.Length);
        }
        else
        {
            // Only the real terminator at the very end completes the message; the smuggled lines are content.
            whole.Status.Should().Be("Completed");
            whole.Consumed.Should().Be(input.Length);
            whole.Content.Should().StartWith("x\r\n").And.EndWith("\r\nMAIL FROM:<spoof@c.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\nSubject: smuggled\r\n\r\ny\r\n");
            AssertOnlyCrlf(whole.Content);
        }

        AssertEverySplit(input, BareLineEndingHandling.Normalize, whole.Status, whole.Content, whole.Consumed);
    }

    [Theory]
    [InlineData("\n.\n", "x\r\n\r\n.\r\n\r\n")]
    [InlineData("\n.\r\n", "x\r\n\r\n.\r\n\r\n")]
    [InlineData("\r\n.\n", "x\r\n\r\n.\r\n\r\n")]
    [InlineData("\r\n.\r", "x\r\n\r\n.\r\n\r\n")]
    [InlineData("\r.\r\n", "x\r\n\r\n.\r\n\r\n")]
    [InlineData("\r\n.\r\r\n", "x\r\n\r\n.\r\n\r\n\r\n")]
    [InlineData("\r\r\n.\r\r\n", "x\r\n\r\n\r\n.\r\n\r\n\r\n")]
    public void Normalize_mode_keeps_the_smuggled_dot_as_a_text_line(string sequence, string prefix)
    {
        var result = Run("x\r\n" + sequence + Tail, BareLineEndingHandling.Normalize, []);
        result.Content.Should().StartWith(prefix + "MAIL FROM:<spoof@c.test>\r\n");
    }

    [Fact]
    public void A_line_of_exactly_1000_octets_is_accepted()
    {
        var line = new string('a', 998) + "\r\n";
        var reader = NewReader(BareLineEndingHandling.Reject);
        var output = new ArrayBufferWriter<byte>();
        Process(ref reader, line + ".\r\n", output).Should().Be(DataStatus.Completed);
        reader.LineTooLong.Should().BeFalse();
        Encoding.Latin1.GetString(output.WrittenSpan).Should().Be(line);
    }

    [Theory]
    [InlineData(999)]
    [InlineData(1000)]
    [InlineData(100_000)]
    public void A_line_over_1000_octets_is_too_long_and_nothing_more_is_written(int length)
    {
        foreach (var mode in new[] { BareLineEndingHandling.Reject, BareLineEndingHandling.Normalize })
        {
            var reader = NewReader(mode);
            var output = new ArrayBufferWriter<byte>();
            Process(ref reader, "ok\r\n", output).Should().Be(DataStatus.NeedMoreData);
            Process(ref reader, new string('a', length), output).Should().Be(DataStatus.NeedMoreData);
            reader.LineTooLong.Should().BeTrue();
            var written = output.WrittenCount;
            written.Should().BeLessThanOrEqualTo(4 + 998);
            Process(ref reader, "\r\nmore\r\n..x\r\n", output).Should().Be(DataStatus.NeedMoreData);
            Process(ref reader, ".\r\n", output).Should().Be(DataStatus.Completed, "the reader still finds the terminator");
            output.WrittenCount.Should().Be(written, "nothing is written once the line limit is exceeded");
        }
    }

    [Fact]
    public void The_line_limit_does_not_count_the_stuffing_dot()
    {
        // RFC 5321 §4.5.3.1.6: 1000 octets with CRLF, "not counting the leading dot duplicated for transparency".
        var reader = NewReader(BareLineEndingHandling.Reject);
        Process(ref reader, "." + new string('a', 998) + "\r\n.\r\n", null).Should().Be(DataStatus.Completed);
        reader.LineTooLong.Should().BeFalse();

        reader = NewReader(BareLineEndingHandling.Reject);
        Process(ref reader, "." + new string('a', 999) + "\r\n.\r\n", null).Should().Be(DataStatus.Completed);
        reader.LineTooLong.Should().BeTrue();
    }

    [Fact]
    public void Every_line_is_measured_on_its_own()
    {
        var reader = NewReader(BareLineEndingHandling.Reject);
        var line = new string('a', 998) + "\r\n";
        Process(ref reader, string.Concat(Enumerable.Repeat(line, 50)) + ".\r\n", null).Should().Be(DataStatus.Completed);
        reader.LineTooLong.Should().BeFalse();
        reader.Size.Should().Be(50 * 1000);
    }

    [Theory]
    [InlineData("01234567\r\n", false)] // exactly 10 octets
    [InlineData("012345678\r\n", true)] // 11
    [InlineData("0123\r\n..\r\n", false)] // 6 + 3 after unstuffing: 9
    [InlineData("0123\r\n...\r\n", false)] // 6 + 4: 10
    [InlineData("0123\r\n....\r\n", true)] // 6 + 5: 11
    public void The_size_limit_is_exact_and_counts_unstuffed_content(string content, bool exceeded)
    {
        var reader = new DataReader(10, 1000, BareLineEndingHandling.Reject);
        var output = new ArrayBufferWriter<byte>();
        Process(ref reader, content + ".\r\n", output).Should().Be(DataStatus.Completed);
        reader.SizeExceeded.Should().Be(exceeded);
        output.WrittenCount.Should().BeLessThanOrEqualTo(10);
        if (!exceeded)
        {
            output.WrittenCount.Should().Be((int)reader.Size);
        }
    }

    [Fact]
    public void Nothing_is_written_after_the_size_limit_is_exceeded()
    {
        var reader = new DataReader(100, 1000, BareLineEndingHandling.Reject);
        var output = new ArrayBufferWriter<byte>();
        var line = "0123456789abcdefghi\r\n"; // 21 octets
        var written = -1;
        for (var i = 0; i < 20; i++)
        {
            Process(ref reader, line, output).Should().Be(DataStatus.NeedMoreData);
            if (reader.SizeExceeded && written < 0)
            {
                written = output.WrittenCount;
            }
        }

        written.Should().BeInRange(0, 100);
        Process(ref reader, ".\r\n", output).Should().Be(DataStatus.Completed);
        output.WrittenCount.Should().Be(written);
        reader.Size.Should().Be(20 * 21, "the size is still counted while the content is dropped");
    }

    [Fact]
    public void An_empty_body_is_zero_octets()
    {
        var reader = NewReader(BareLineEndingHandling.Reject);
        var output = new ArrayBufferWriter<byte>();
        Process(ref reader, ".\r\n", output).Should().Be(DataStatus.Completed);
        output.WrittenCount.Should().Be(0);
        reader.Size.Should().Be(0);
    }

    [Fact]
    public void Content_can_be_parsed_without_an_output()
    {
        var reader = NewReader(BareLineEndingHandling.Reject);
        Process(ref reader, "hello\r\n.\r\n", null).Should().Be(DataStatus.Completed);
        reader.Size.Should().Be(7);
    }

    private static DataReader NewReader(BareLineEndingHandling mode) => new(1024 * 1024, 1000, mode);

    private static DataStatus Process(ref DataReader reader, string input, IBufferWriter<byte>? output)
        => reader.Process(new ReadOnlySequence<byte>(SequenceBuilder.Bytes(input)), output, out _);

    private static void AssertEverySplit(string input, BareLineEndingHandling mode, string status, string content, int consumed)
    {
        var data = SequenceBuilder.Bytes(input);
        foreach (var split in SequenceBuilder.AllSplits(data.Length))
        {
            // Assertions run only on a mismatch, so thousands of splits stay fast.
            var whole = Run(data, mode, split);
            if (whole != (status, content, consumed))
            {
                var because = $"{mode}, split at [{string.Join(",", split)}]";
                whole.Status.Should().Be(status, because);
                whole.Content.Should().Be(content, because);
                whole.Consumed.Should().Be(consumed, because);
            }

            var arriving = RunArriving(data, mode, split);
            if (arriving != (status, content, consumed))
            {
                var because = $"{mode}, split at [{string.Join(",", split)}], arriving piece by piece";
                arriving.Status.Should().Be(status, because);
                arriving.Content.Should().Be(content, because);
                arriving.Consumed.Should().Be(consumed, because);
            }
        }
    }

    private static (string Status, string Content, int Consumed) Run(string input, BareLineEndingHandling mode, int[] split)
        => Run(SequenceBuilder.Bytes(input), mode, split);

    private static (string Status, string Content, int Consumed) Run(byte[] data, BareLineEndingHandling mode, int[] split)
    {
        var reader = NewReader(mode);
        var output = new ArrayBufferWriter<byte>();
        var sequence = SequenceBuilder.Split(data, split);
        var status = reader.Process(sequence, output, out var consumed);
        return (status.ToString(), Encoding.Latin1.GetString(output.WrittenSpan), (int)sequence.Slice(sequence.Start, consumed).Length);
    }

    /// <summary>Each piece is processed on its own, as the pipe delivers it; the reader's state carries over.</summary>
    private static (string Status, string Content, int Consumed) RunArriving(byte[] data, BareLineEndingHandling mode, int[] split)
    {
        var reader = NewReader(mode);
        var output = new ArrayBufferWriter<byte>();
        var offset = 0;
        var status = DataStatus.NeedMoreData;
        foreach (var piece in SequenceBuilder.Pieces(data, split))
        {
            var sequence = new ReadOnlySequence<byte>(piece);
            status = reader.Process(sequence, output, out var consumed);
            var used = (int)sequence.Slice(sequence.Start, consumed).Length;
            offset += used;
            if (status != DataStatus.NeedMoreData)
            {
                break;
            }

            if (used != piece.Length)
            {
                used.Should().Be(piece.Length, "a reader that needs more data consumes all it was given");
            }
        }

        return (status.ToString(), Encoding.Latin1.GetString(output.WrittenSpan), offset);
    }

    private static void AssertOnlyCrlf(string content)
    {
        for (var i = 0; i < content.Length; i++)
        {
            if (content[i] == '\r')
            {
                (i + 1 < content.Length && content[i + 1] == '\n').Should().BeTrue("a CR at {0} must start a CRLF", i);
            }
            else if (content[i] == '\n')
            {
                (i > 0 && content[i - 1] == '\r').Should().BeTrue("a LF at {0} must end a CRLF", i);
            }
        }
    }
}
