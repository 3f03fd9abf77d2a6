using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>RFC 2920 groups: docs/threat-model.md T39 and T41–T43.</summary>
public sealed class PipeliningTranscriptTests
{
    [Fact]
    public async Task T39_one_hundred_pipelined_recipients_in_one_write()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        var group = "MAIL FROM:<a@c.test>\r\n" + string.Concat(Enumerable.Range(1, 100).Select(i => $"RCPT TO:<r{i}@s.test>\r\n"));
        await client.SendAsync(group);
        var replies = await client.ReadRepliesAsync(101);
        replies[0].Should().Be("250 2.1.0 Sender OK");
        replies.Skip(1).Should().AllBe("250 2.1.5 Recipient OK");
        (await client.CommandCodeAsync("DATA")).Should().Be("354 Start");
        (await client.CommandCodeAsync("x\r\n.")).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.Envelope.Recipients.Should().HaveCount(100);
    }

    [Fact]
    public async Task T39_the_101st_recipient_gets_452_4_5_3_and_is_not_a_bad_command()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.MaxRecipients = 100;
            o.MaxBadCommands = 2;
        });
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("MAIL FROM:<a@c.test>\r\n" + string.Concat(Enumerable.Range(1, 105).Select(i => $"RCPT TO:<r{i}@s.test>\r\n")) + "DATA\r\n");
        var replies = await client.ReadRepliesAsync(107);
        replies.Skip(1).Take(100).Should().AllBe("250 2.1.5 Recipient OK");
        replies.Skip(101).Take(5).Select(RawSmtpClientExtensions.Code).Should().AllBe("452 4.5.3");
        RawSmtpClientExtensions.Code(replies[106]).Should().Be("354 Start", "452 is not counted towards the bad-command limit");
        (await client.CommandCodeAsync("x\r\n.")).Should().Be("250 2.0.0");
        var recipients = server.Messages.Messages.Should().ContainSingle().Subject.Envelope.Recipients;
        recipients.Should().HaveCount(100);
        recipients[^1].Mailbox.LocalPart.Should().Be("r100");
    }

    [Fact]
    public async Task The_recipient_limit_is_per_transaction()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxRecipients = 2);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<r1@s.test>\r\nRCPT TO:<r2@s.test>\r\nRCPT TO:<r3@s.test>\r\nRSET\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<r3@s.test>\r\n");
        (await client.ReadRepliesAsync(7)).Select(RawSmtpClientExtensions.Code).Should().Equal(
            "250 2.1.0", "250 2.1.5", "250 2.1.5", "452 4.5.3", "250 2.0.0", "250 2.1.0", "250 2.1.5");
    }

    [Fact]
    public async Task T41_commands_after_a_rejected_data_close_the_connection()
    {
        var filter = new DelegateMailboxFilter(recipient: r => r.Mailbox.Domain == "invalid.test" ? SmtpReply.MailboxUnavailable : SmtpReply.RecipientOk);
        await using var server = await TestServer.StartAsync(filter: filter);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<nobody@invalid.test>\r\nDATA\r\nMAIL FROM:<spoof@c.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\nx\r\n.\r\n");
        (await client.ReadRepliesAsync(3)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "550 5.1.1", "554 5.5.0");
        (await client.IsClosedAsync()).Should().BeTrue();
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task T41_content_sent_with_an_accepted_data_closes_the_connection_before_any_354()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync(RawSmtpClientExtensions.Envelope + "DATA\r\nSubject: early\r\n\r\nx\r\n.\r\n");
        var text = await client.ReadToEndAsync();
        text.Should().Be("250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n554 5.5.0 Protocol synchronization error: DATA must be the last command in a group\r\n");
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task T42_a_second_transaction_pipelined_after_the_final_dot_is_refused()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("m1\r\n.\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\nSubject: 2\r\n\r\nm2\r\n.\r\n");
        (await client.ReadRepliesAsync(4)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.0.0", "250 2.1.0", "250 2.1.5", "554 5.5.0");
        (await client.IsClosedAsync()).Should().BeTrue();

        // The first message was sent after its 354 and is legitimate; the smuggled second one never arrives.
        var message = server.Messages.Messages.Should().ContainSingle().Subject;
        message.GetContentAsString().Should().Be("m1\r\n");
    }

    [Fact]
    public async Task T43_legitimate_pipelining()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nRCPT TO:<c@s.test>\r\nDATA\r\n");
        (await client.ReadRepliesAsync(4)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5", "250 2.1.5", "354 Start");
        await client.SendAsync("x\r\n.\r\nQUIT\r\n");
        (await client.ReadRepliesAsync(2)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.0.0", "221 2.0.0");
        (await client.IsClosedAsync()).Should().BeTrue();
        server.Messages.Messages.Should().ContainSingle().Which.Envelope.Recipients.Should().HaveCount(2);
    }

    [Fact]
    public async Task Replies_to_a_group_arrive_in_order_and_together()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.SendAsync("EHLO c.test\r\nNOOP\r\nRSET\r\nVRFY x\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nRSET\r\nQUIT\r\n");
        var text = await client.ReadToEndAsync();
        var codes = text.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Where(l => l[3] == ' ').Select(RawSmtpClientExtensions.Code);
        codes.Should().Equal("250 HELP", "250 2.0.0", "250 2.0.0", "252 2.5.0", "250 2.1.0", "250 2.1.5", "250 2.0.0", "221 2.0.0");
    }

    [Fact]
    public async Task Commands_after_quit_in_the_same_group_are_not_run()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.SendAsync("EHLO c.test\r\nQUIT\r\nMAIL FROM:<a@c.test>\r\nNOOP\r\n");
        var text = await client.ReadToEndAsync();
        text.Should().EndWith("221 2.0.0 Bye\r\n");
        text.Should().NotContain("2.1.0");
    }

    [Fact]
    public async Task T28_starttls_then_bare_lf_noop_gets_500_and_close_without_tls()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("STARTTLS\nNOOP\n");
        (await client.ReadToEndAsync()).Should().Be("500 5.5.2 Bare LF received, lines must end with CRLF\r\n");
    }

    [Fact]
    public async Task Starttls_pipelined_with_a_command_is_refused_without_tls_configured()
    {
        // T01 as far as it applies without certificates: STARTTLS is not offered, nothing after it is lost or doubled.
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("STARTTLS\r\nRSET\r\n");
        (await client.ReadRepliesAsync(2)).Select(RawSmtpClientExtensions.Code).Should().Equal("502 5.5.1", "250 2.0.0");
    }
}
