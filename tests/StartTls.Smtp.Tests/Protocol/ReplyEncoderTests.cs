using System.Buffers;
using System.Text;
using StartTls.Smtp.Protocol;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>Reply wire format: code, separator, enhanced code on every line, printable ASCII only.</summary>
public sealed class ReplyEncoderTests
{
    [Fact]
    public void Encodes_a_single_line_reply()
        => Encode(new SmtpReply(250, "2.1.0", "Sender OK")).Should().Be("250 2.1.0 Sender OK\r\n");

    [Fact]
    public void Encodes_a_reply_without_an_enhanced_code()
        => Encode(new SmtpReply(354, null, "Go ahead")).Should().Be("354 Go ahead\r\n");

    [Fact]
    public void Encodes_an_empty_text()
        => Encode(new SmtpReply(250, "2.0.0", "")).Should().Be("250 2.0.0 \r\n");

    [Fact]
    public void Multiline_replies_use_a_hyphen_on_all_but_the_last_line_and_repeat_the_enhanced_code()
        => Encode(new SmtpReply(214, "2.0.0", "one\ntwo\nthree")).Should().Be("214-2.0.0 one\r\n214-2.0.0 two\r\n214 2.0.0 three\r\n");

    [Fact]
    public void Multiline_replies_without_an_enhanced_code()
        => Encode(new SmtpReply(250, null, "mx.test\nPIPELINING\nHELP")).Should().Be("250-mx.test\r\n250-PIPELINING\r\n250 HELP\r\n");

    [Fact]
    public void Crlf_in_the_text_becomes_a_line_break()
        => Encode(new SmtpReply(550, "5.1.1", "first\r\nsecond")).Should().Be("550-5.1.1 first\r\n550 5.1.1 second\r\n");

    [Fact]
    public void A_bare_cr_never_reaches_the_wire()
    {
        var wire = Encode(new SmtpReply(550, "5.1.1", "a\rb\r"));
        wire.Should().Be("550 5.1.1 a?b\r\n");
    }

    [Fact]
    public void A_trailing_newline_gives_an_empty_last_line()
        => Encode(new SmtpReply(250, "2.0.0", "a\n")).Should().Be("250-2.0.0 a\r\n250 2.0.0 \r\n");

    [Theory]
    [InlineData("jö@c.test", "j?@c.test")]
    [InlineData("用户", "??")]
    [InlineData("😀", "??")] // a surrogate pair is two chars, each replaced
    [InlineData("tab\there", "tab?here")]
    [InlineData("nul\0here", "nul?here")]
    [InlineData("del\u007Fhere", "del?here")]
    [InlineData("esc\u001B[31m", "esc?[31m")]
    [InlineData("~ !", "~ !")]
    public void Non_printable_and_non_ascii_text_becomes_question_marks(string text, string expected)
        => Encode(new SmtpReply(550, "5.1.1", text)).Should().Be("550 5.1.1 " + expected + "\r\n");

    [Fact]
    public void Every_byte_on_the_wire_is_printable_ascii_or_crlf()
    {
        var text = new string(Enumerable.Range(0, 0x300).Select(i => (char)i).ToArray());
        var wire = ReplyEncoder.Encode(new SmtpReply(451, "4.3.0", text));
        for (var i = 0; i < wire.Length; i++)
        {
            var b = wire[i];
            if (b == '\r')
            {
                wire[i + 1].Should().Be((byte)'\n');
            }
            else if (b == '\n')
            {
                wire[i - 1].Should().Be((byte)'\r');
            }
            else
            {
                b.Should().BeInRange((byte)' ', (byte)'~');
            }
        }

        Encoding.ASCII.GetString(wire).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Should().AllSatisfy(line => line.Should().MatchRegex("^451[- ]4\\.3\\.0 "));
    }

    [Fact]
    public void Write_appends_to_an_existing_buffer()
    {
        var writer = new ArrayBufferWriter<byte>();
        ReplyEncoder.Write(writer, SmtpReply.Ok);
        ReplyEncoder.Write(writer, new SmtpReply(221, "2.0.0", "Bye"));
        Encoding.ASCII.GetString(writer.WrittenSpan).Should().Be("250 2.0.0 OK\r\n221 2.0.0 Bye\r\n");
    }

    [Fact]
    public void A_long_multiline_reply_is_encoded_whole()
    {
        var lines = Enumerable.Range(0, 200).Select(i => new string((char)('a' + (i % 26)), 300)).ToArray();
        var wire = Encode(new SmtpReply(250, "2.0.0", string.Join('\n', lines)));
        var parsed = wire.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        parsed.Should().HaveCount(200);
        parsed[..^1].Should().AllSatisfy(l => l.Should().StartWith("250-2.0.0 "));
        parsed[^1].Should().Be("250 2.0.0 " + lines[^1]);
    }

    [Fact]
    public void The_cached_wire_bytes_match_the_encoder()
    {
        var reply = new SmtpReply(452, "4.5.3", "Too many recipients");
        reply.WireBytes.Should().Equal(ReplyEncoder.Encode(reply));
        Encoding.ASCII.GetString(Replies.TooManyRecipients.WireBytes).Should().Be("452 4.5.3 Too many recipients\r\n");
    }

    private static string Encode(SmtpReply reply) => Encoding.ASCII.GetString(ReplyEncoder.Encode(reply));
}
