using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>Command lines on the wire: docs/threat-model.md T25–T31, and lines split across writes.</summary>
public sealed class CommandLineTranscriptTests
{
    [Fact]
    public async Task T25_a_512_octet_command_is_accepted_at_the_minimum_limit()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxCommandLineLength = 512);
        await using var client = await server.ConnectAsync();
        var line = "NOOP " + new string('x', 505);
        (line.Length + 2).Should().Be(512);
        (await client.CommandCodeAsync(line)).Should().Be("250 2.0.0");
        (await client.CommandCodeAsync("NOOP " + new string('x', 506))).Should().Be("500 5.5.2");
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task T25_a_512_octet_mail_command_is_accepted_with_the_default_limit()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        var prefix = "MAIL FROM:<";
        var suffix = "@c.test> SIZE=1";
        var local = new string('l', 64);
        var line = prefix + local + suffix;
        var padding = 510 - line.Length;
        line += new string(' ', padding);
        (line.Length + 2).Should().Be(512);
        (await client.CommandCodeAsync(line)).Should().Be("250 2.1.0");
    }

    [Fact]
    public async Task T26_an_overlong_unterminated_line_gets_one_500_and_the_server_resynchronises()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxCommandLineLength = 512);
        await using var client = await server.ConnectAsync();
        await client.SendAsync("NOOP " + new string('x', 8192));
        (await client.IsSilentAsync()).Should().BeTrue("the reply comes when the line ends");
        await client.SendAsync("\r\n");
        (await client.ReadCodeAsync()).Should().Be("500 5.5.2");
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task T26_an_overlong_line_sent_in_many_writes_gets_one_500()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxCommandLineLength = 512);
        await using var client = await server.ConnectAsync();
        for (var i = 0; i < 50; i++)
        {
            await client.SendAsync(new string('y', 1000));
        }

        await client.SendAsync("\r\nNOOP\r\n");
        (await client.ReadRepliesAsync(2)).Select(RawSmtpClientExtensions.Code).Should().Equal("500 5.5.2", "250 2.0.0");
        (await client.IsSilentAsync()).Should().BeTrue();
    }

    [Fact]
    public async Task T27_the_tail_of_a_truncated_line_is_never_run()
    {
        const int limit = 512;
        await using var server = await TestServer.StartAsync(o => o.MaxCommandLineLength = limit);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("NOOP " + new string('x', limit - 5) + "MAIL FROM:<e@c.test>\r\n");
        (await client.ReadCodeAsync()).Should().Be("500 5.5.2");
        (await client.CommandCodeAsync("RCPT TO:<b@s.test>")).Should().Be("503 5.5.1", "the MAIL tail was never executed");
        (await client.IsSilentAsync()).Should().BeTrue("exactly one reply for the long line");
    }

    [Theory]
    [InlineData("EHLO c.test\nMAIL FROM:<a@c.test>\r\n")]
    [InlineData("EHLO c.test\rMAIL FROM:<a@c.test>\r\n")]
    [InlineData("STARTTLS\nNOOP\n")]
    [InlineData("NOOP\n")]
    [InlineData("\n")]
    [InlineData("NOOP\r\r\n")]
    public async Task T28_bare_lf_or_cr_in_a_command_gets_500_5_5_2_and_close(string input)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.SendAsync(input);
        (await client.ReadCodeAsync()).Should().Be("500 5.5.2");
        (await client.IsClosedAsync()).Should().BeTrue("nothing after the bare line ending runs");
    }

    [Fact]
    public async Task T28_a_bare_lf_after_a_valid_command_still_closes()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\nDATA\r\n");
        (await client.ReadRepliesAsync(2)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "500 5.5.2");
        (await client.IsClosedAsync()).Should().BeTrue();
    }

    [Theory]
    [InlineData("EHLO c\0.test", "501 5.5.2")]
    [InlineData("NOOP \0", "501 5.5.2")]
    [InlineData("STARTTLS\0", "501 5.5.2")]
    [InlineData("\0", "501 5.5.2")]
    [InlineData("MAIL FROM:<a\0b@c.test>", "501 5.1.7")]
    [InlineData("MAIL FROM:<a@c.test>\0", "501 5.1.7")]
    public async Task T29_nul_in_a_command(string command, string expected)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandCodeAsync(command)).Should().Be(expected);
        (await client.CommandCodeAsync("RCPT TO:<b@s.test>")).Should().Be("503 5.5.1", "the MAIL was refused");
    }

    [Fact]
    public async Task T29_nul_in_a_recipient()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test>")).Should().Be("250 2.1.0");
        (await client.CommandCodeAsync("RCPT TO:<b\0c@s.test>")).Should().Be("501 5.1.3");
        (await client.CommandCodeAsync("DATA")).Should().Be("554 5.5.1");
    }

    [Fact]
    public async Task T30_eight_bit_addresses_without_and_with_smtputf8()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        var replies = new List<string>
        {
            await client.CommandAsync("MAIL FROM:<j\xC3\xB6@c.test>"),
            await client.CommandAsync("MAIL FROM:<j\xF6@c.test> SMTPUTF8"),
            await client.CommandAsync("MAIL FROM:<a@c.test>"),
            await client.CommandAsync("RCPT TO:<j\xC3\xB6@s.test>"),
            await client.CommandAsync("RSET"),
            await client.CommandAsync("MAIL FROM:<j\xC3\xB6@c.test> SMTPUTF8"),
            await client.CommandAsync("RCPT TO:<j\xC3\xB6@s.test>"),
            await client.CommandAsync("RCPT TO:<x\xF6@s.test>"),
            await client.CommandAsync("EHLO \xC3\xB6.test"),
        };
        replies.Select(RawSmtpClientExtensions.Code).Should().Equal(
            "550 5.6.7", "501 5.5.2", "250 2.1.0", "553 5.6.7", "250 2.0.0", "250 2.1.0", "250 2.1.5", "501 5.5.2", "501 5.5.2");
        replies.Should().AllSatisfy(r => r.Should().MatchRegex("^[ -~\r\n]*$", "replies never echo non-ASCII"));
    }

    [Fact]
    public async Task T30_a_utf8_message_is_delivered_with_smtputf8()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("MAIL FROM:<j\xC3\xB6@c.test> SMTPUTF8 BODY=8BITMIME\r\nRCPT TO:<\xE7\x94\xA8@s.test>\r\nDATA\r\n");
        (await client.ReadRepliesAsync(3)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5", "354 Start");
        await client.SendAsync("Subject: \xC3\xB6\r\n\r\n\xC3\xB6\r\n.\r\n");
        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
        var message = server.Messages.Messages.Should().ContainSingle().Subject;
        message.Envelope.From!.Address.Should().Be("jö@c.test");
        message.Envelope.Recipients[0].Mailbox.Address.Should().Be("用@s.test");
        message.Envelope.IsSmtpUtf8.Should().BeTrue();
        message.Envelope.BodyType.Should().Be(SmtpBodyType.EightBitMime);
        message.GetContentAsString().Should().Be("Subject: ö\r\n\r\nö\r\n");
    }

    [Theory]
    [InlineData("\xC5\xBFTARTTLS")]
    [InlineData("MA\xC4\xB1L FROM:<a@c.test>")]
    [InlineData("\xC5\xBFTARTTLS foo")]
    [InlineData("RCP\xC5\xA2 TO:<b@s.test>")]
    public async Task T31_unicode_look_alike_verbs_are_unknown(string command)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandCodeAsync(command)).Should().Be("500 5.5.1");
        (await client.CommandCodeAsync("RCPT TO:<b@s.test>")).Should().Be("503 5.5.1", "no MAIL ran");
    }

    [Fact]
    public async Task A_command_line_split_one_byte_per_write()
    {
        // In memory: each byte is read by the server before the next is written.
        await using var server = await TestServer.StartAsync();
        await using var client = await PipeConnection.ConnectAsync(server);
        await client.SendByteByByteAsync("EHLO slow.test\r\n");
        (await client.ReadReplyAsync()).Should().StartWith("250-mx.test");
        await client.SendByteByByteAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\n");
        string[] replies = [await client.ReadReplyAsync(), await client.ReadReplyAsync(), await client.ReadReplyAsync()];
        replies.Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5", "354 Start");
        await client.SendAsync("x\r\n.\r\n");
        RawSmtpClientExtensions.Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.HeloName.Should().Be("slow.test");
    }

    [Fact]
    public async Task A_command_split_at_every_position_into_two_writes()
    {
        // In memory: the first piece is read (and waited on) before the second exists.
        await using var server = await TestServer.StartAsync();
        await using var client = await PipeConnection.ConnectAsync(server);
        const string command = "VRFY split@c.test\r\n";
        for (var i = 1; i < command.Length; i++)
        {
            await client.SendPieceAsync(command[..i]);
            await client.SendAsync(command[i..]);
            RawSmtpClientExtensions.Code(await client.ReadReplyAsync()).Should().Be("252 2.5.0", "split at {0}", i);
        }
    }
}
