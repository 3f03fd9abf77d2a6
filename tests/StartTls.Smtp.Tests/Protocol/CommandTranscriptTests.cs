using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>Every command's happy path and the sequence errors, over a real socket.</summary>
public sealed class CommandTranscriptTests
{
    [Fact]
    public async Task Greets_and_advertises_the_extensions()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxMessageSize = 1048576);
        await using var client = await server.ConnectAsync(readGreeting: false);
        (await client.ReadReplyAsync()).Should().Be("220 mx.test ESMTP ready");
        (await client.EhloAsync("c.test")).Split("\r\n").Should().Equal(
            "250-mx.test", "250-PIPELINING", "250-SIZE 1048576", "250-8BITMIME", "250-SMTPUTF8", "250-DSN", "250-CHUNKING",
            "250-BINARYMIME", "250-ENHANCEDSTATUSCODES", "250-LIMITS RCPTMAX=100", "250 HELP");
    }

    [Fact]
    public async Task The_ehlo_reply_follows_the_options()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.EnablePipelining = false;
            o.Enable8BitMime = false;
            o.EnableSmtpUtf8 = false;
            o.EnableDsn = false;
            o.MaxRecipients = 7;
            o.EnableChunking = false;
        });
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Split("\r\n").Should().Equal("250-mx.test", "250-SIZE 26214400", "250-ENHANCEDSTATUSCODES", "250-LIMITS RCPTMAX=7", "250 HELP");
    }

    [Fact]
    public async Task Helo_gets_a_single_line_and_allows_mail()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        (await client.CommandAsync("HELO old.test")).Should().Be("250 mx.test");
        await client.SendAsync(RawSmtpClientExtensions.Envelope + "DATA\r\n");
        (await client.ReadRepliesAsync(3)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5", "354 Start");
        await client.SendAsync("hi\r\n.\r\n");
        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.HeloName.Should().Be("old.test");
    }

    [Fact]
    public async Task A_full_session_gets_the_documented_replies()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync("c.test")).Should().StartWith("250-mx.test");
        (await client.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        (await client.CommandAsync("NOOP ignored argument")).Should().Be("250 2.0.0 OK");
        (await client.CommandAsync("RSET")).Should().Be("250 2.0.0 OK");
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("250 2.1.0 Sender OK");
        (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().Be("250 2.1.5 Recipient OK");
        (await client.CommandAsync("DATA")).Should().StartWith("354 ");
        (await client.CommandAsync("Subject: x\r\n\r\nbody\r\n.")).Should().StartWith("250 2.0.0 ");
        (await client.CommandAsync("VRFY someone")).Should().StartWith("252 2.5.0 ");
        (await client.CommandAsync("HELP")).Should().MatchRegex("^(214-2\\.0\\.0 .*\r\n)*214 2\\.0\\.0 .*$");
        (await client.CommandAsync("HELP MAIL")).Should().StartWith("214");
        (await client.CommandAsync("QUIT")).Should().Be("221 2.0.0 Bye");
        (await client.IsClosedAsync()).Should().BeTrue();

        var message = server.Messages.Messages.Should().ContainSingle().Subject;
        message.GetContentAsString().Should().Be("Subject: x\r\n\r\nbody\r\n");
        message.Envelope.From!.Address.Should().Be("a@c.test");
        message.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("b@s.test");
        message.HeloName.Should().Be("c.test");
    }

    [Fact]
    public async Task Several_messages_in_one_session()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        for (var i = 0; i < 3; i++)
        {
            await client.SendAsync($"MAIL FROM:<a{i}@c.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\n");
            (await client.ReadRepliesAsync(3)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5", "354 Start");
            await client.SendAsync($"message {i}\r\n.\r\n");
            (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
        }

        server.Messages.Messages.Select(m => m.GetContentAsString()).Should().Equal("message 0\r\n", "message 1\r\n", "message 2\r\n");
        server.Messages.Messages.Select(m => m.Envelope.From!.LocalPart).Should().Equal("a0", "a1", "a2");
    }

    [Fact]
    public async Task An_empty_body_is_stored_as_zero_octets()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        (await client.CommandCodeAsync(".")).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.Content.Length.Should().Be(0);
    }

    [Theory]
    [InlineData("EXPN list")]
    [InlineData("STARTTLS")]
    [InlineData("AUTH PLAIN AHVzZXIAcGFzcw==")]
    [InlineData("AUTH LOGIN")]
    public async Task Commands_not_offered_get_502(string command)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandCodeAsync(command)).Should().Be("502 5.5.1");
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task Bdat_with_chunking_disabled_is_not_offered_and_nothing_is_stored()
    {
        // EnableChunking = false: no CHUNKING in the EHLO reply, so BDAT is a command not implemented.
        await using var server = await TestServer.StartAsync(o => o.EnableChunking = false);
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().NotContain("CHUNKING").And.NotContain("BINARYMIME");
        await client.SendAsync(RawSmtpClientExtensions.Envelope);
        (await client.ReadRepliesAsync(2)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5");
        (await client.CommandCodeAsync("BDAT 0 LAST")).Should().Be("502 5.5.1");
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");

        // The octets a client framed behind BDAT are read and dropped, never run as commands (T48), and the
        // transaction goes on with DATA.
        await client.SendAsync("BDAT 15 LAST\r\nRSET\r\nQUIT\r\n123NOOP\r\n");
        (await client.ReadReplyAsync()).Should().StartWith("502 5.5.1");
        (await client.ReadReplyAsync()).Should().Be("250 2.0.0 OK");
        (await client.CommandCodeAsync("DATA")).Should().Be("354 Start");
        (await client.CommandCodeAsync("Subject: x\r\n\r\nbody\r\n.")).Should().Be("250 2.0.0");
        server.Messages.Count.Should().Be(1);
    }

    [Fact]
    public async Task Bdat_with_chunking_disabled_and_an_unreadable_size_closes_the_connection()
    {
        await using var server = await TestServer.StartAsync(o => o.EnableChunking = false);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();

        (await client.CommandCodeAsync("BDAT 0x10")).Should().Be("501 5.5.4");
        (await client.IsClosedAsync()).Should().BeTrue("its octets cannot be told from commands (T48)");
    }

    [Theory]
    [InlineData("XYZZY")]
    [InlineData("MAILFROM:<a@c.test>")]
    [InlineData("HELLO c.test")]
    [InlineData("")]
    [InlineData(" NOOP")]
    public async Task Unknown_commands_get_500_5_5_1(string command)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        (await client.CommandCodeAsync(command)).Should().Be("500 5.5.1");
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task Mail_before_ehlo_is_a_sequence_error()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test>")).Should().Be("503 5.5.1");
        (await client.CommandCodeAsync("RCPT TO:<b@s.test>")).Should().Be("503 5.5.1");
        (await client.CommandCodeAsync("DATA")).Should().Be("503 5.5.1");
        (await client.EhloAsync()).Should().StartWith("250");
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test>")).Should().Be("250 2.1.0");
    }

    [Fact]
    public async Task Sequence_errors_in_a_transaction()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandCodeAsync("RCPT TO:<b@s.test>")).Should().Be("503 5.5.1"); // RCPT before MAIL
        (await client.CommandCodeAsync("DATA")).Should().Be("503 5.5.1"); // DATA before MAIL
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test>")).Should().Be("250 2.1.0");
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test>")).Should().Be("503 5.5.1"); // nested MAIL
        (await client.CommandCodeAsync("DATA")).Should().Be("554 5.5.1"); // no recipient
        (await client.CommandCodeAsync("RCPT TO:<b@s.test>")).Should().Be("250 2.1.5");
        (await client.CommandCodeAsync("DATA")).Should().Be("354 Start");
        (await client.CommandCodeAsync("x\r\n.")).Should().Be("250 2.0.0");
        (await client.CommandCodeAsync("RCPT TO:<b@s.test>")).Should().Be("503 5.5.1", "the transaction ended with the message");
        (await client.CommandCodeAsync("DATA")).Should().Be("503 5.5.1");
    }

    [Theory]
    [InlineData("DATA x", "501 5.5.4")]
    [InlineData("RSET x", "501 5.5.4")]
    [InlineData("VRFY", "501 5.5.4")]
    [InlineData("EHLO", "501 5.5.4")]
    [InlineData("EHLO ", "501 5.5.4")]
    [InlineData("HELO", "501 5.5.4")]
    [InlineData("EHLO a b", "501 5.5.4")]
    [InlineData("EHLO \xC3\xB6.test", "501 5.5.2")]
    [InlineData("HELO \xC3\xB6.test", "501 5.5.2")]
    [InlineData("STARTTLS foo", "502 5.5.1")]
    public async Task Argument_errors(string command, string expected)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().StartWith("250");
        var reply = await client.CommandAsync(command);
        RawSmtpClientExtensions.Code(reply).Should().Be(expected);
        reply.Should().MatchRegex("^[ -~]*$", "replies never echo non-ASCII");
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task A_failed_ehlo_keeps_the_previous_greeting()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandCodeAsync("EHLO")).Should().Be("501 5.5.4");
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test>")).Should().Be("250 2.1.0");
    }

    [Theory]
    [InlineData("EHLO again.test")]
    [InlineData("HELO again.test")]
    [InlineData("RSET")]
    public async Task Ehlo_helo_and_rset_end_the_transaction(string reset)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync(RawSmtpClientExtensions.Envelope);
        (await client.ReadRepliesAsync(2)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5");
        (await client.CommandAsync(reset)).Should().StartWith("250");
        (await client.CommandCodeAsync("RCPT TO:<b@s.test>")).Should().Be("503 5.5.1");
        (await client.CommandCodeAsync("DATA")).Should().Be("503 5.5.1");
        (await client.CommandCodeAsync("MAIL FROM:<other@c.test>")).Should().Be("250 2.1.0", "a new MAIL is not nested");
        (await client.CommandCodeAsync("RCPT TO:<c@s.test>")).Should().Be("250 2.1.5");
        (await client.CommandCodeAsync("DATA")).Should().Be("354 Start");
        (await client.CommandCodeAsync("x\r\n.")).Should().Be("250 2.0.0");
        var message = server.Messages.Messages.Should().ContainSingle().Subject;
        message.Envelope.From!.Address.Should().Be("other@c.test");
        message.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("c@s.test");
    }

    [Fact]
    public async Task Rset_is_allowed_before_ehlo_and_keeps_the_greeting()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        (await client.CommandCodeAsync("RSET")).Should().Be("250 2.0.0");
        await client.EhloAsync();
        (await client.CommandCodeAsync("RSET")).Should().Be("250 2.0.0");
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test>")).Should().Be("250 2.1.0", "RSET does not forget EHLO");
    }

    [Theory]
    [InlineData("VRFY postmaster")]
    [InlineData("VRFY <b@s.test>")]
    [InlineData("vrfy Someone Else")]
    public async Task Vrfy_never_confirms_or_denies(string command)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandCodeAsync(command)).Should().Be("252 2.5.0");
    }

    [Fact]
    public async Task Quit_closes_even_inside_a_transaction_and_nothing_is_stored()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync(RawSmtpClientExtensions.Envelope + "QUIT\r\n");
        (await client.ReadRepliesAsync(3)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5", "221 2.0.0");
        (await client.IsClosedAsync()).Should().BeTrue();
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_data_leaves_nothing_stored()
    {
        var sessions = new SessionRecorder();
        await using var server = await TestServer.StartAsync(sessionHandler: sessions);
        var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("partial message\r\nwithout end");
        await client.DisposeAsync();
        await sessions.FirstClosed.WaitAsync(TimeSpan.FromSeconds(10)); // the server is done with the session
        server.Messages.Count.Should().Be(0);
        await using var next = await server.ConnectAsync();
        (await next.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task Verbs_are_case_insensitive_on_the_wire()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        (await client.CommandAsync("ehlo c.test")).Should().StartWith("250-");
        (await client.CommandCodeAsync("mail from:<a@c.test>")).Should().Be("250 2.1.0");
        (await client.CommandCodeAsync("RcPt To:<b@s.test>")).Should().Be("250 2.1.5");
        (await client.CommandCodeAsync("data")).Should().Be("354 Start");
        (await client.CommandCodeAsync("x\r\n.")).Should().Be("250 2.0.0");
        (await client.CommandCodeAsync("quit")).Should().Be("221 2.0.0");
    }
}
