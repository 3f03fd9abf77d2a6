using System.Text;
using MailKit.Net.Smtp;
using MimeKit;
using MimeKit.Text;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Integration;

/// <summary>MailKit's SmtpClient against the real server on loopback; the stored content is parsed back with MimeKit.</summary>
public sealed class MailKitClientTests
{
    private const int TestTimeout = 30_000;

    private static CancellationTokenSource Deadline() => new(TimeSpan.FromSeconds(20));

    /// <summary>How MailKit serialises a message for SMTP: CRLF line endings whatever the platform.</summary>
    private static FormatOptions WireFormat
    {
        get
        {
            var options = FormatOptions.Default.Clone();
            options.NewLineFormat = NewLineFormat.Dos;
            return options;
        }
    }

    /// <summary>MimeKit returns decoded text with the platform's line endings; the comparisons use CRLF.</summary>
    private static string? Crlf(string? text) => text?.ReplaceLineEndings("\r\n");

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Multipart_message_with_attachment_is_stored_intact()
    {
        await using var server = await TestServer.StartAsync();
        using var cts = Deadline();
        await using var mailKit = await MailKitHarness.ConnectAsync(server, cts.Token);

        var attachment = RandomBytes(150_000, seed: 42);
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Alice", "alice@c.test"));
        message.To.Add(new MailboxAddress("Bob", "bob@s.test"));
        message.Subject = "Quarterly report (with attachment)";
        var builder = new BodyBuilder { TextBody = "Hello Bob,\r\nthe report is attached.\r\n-- \r\nAlice\r\n" };
        builder.Attachments.Add("report.bin", attachment, new ContentType("application", "octet-stream"));
        message.Body = builder.ToMessageBody();

        var response = await mailKit.SendAsync(message);
        response.Should().StartWith("2.0.0", mailKit.Transcript);

        server.Messages.Count.Should().Be(1);
        var stored = server.Messages.Messages[0];
        stored.Envelope.From!.Address.Should().Be("alice@c.test");
        stored.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("bob@s.test");
        stored.HeloName.Should().Be("client.test");

        var parsed = MailKitHarness.Parse(stored);
        parsed.Subject.Should().Be("Quarterly report (with attachment)");
        parsed.MessageId.Should().Be(message.MessageId);
        Crlf(parsed.TextBody).Should().Be("Hello Bob,\r\nthe report is attached.\r\n-- \r\nAlice\r\n");
        var part = parsed.Attachments.OfType<MimePart>().Should().ContainSingle().Subject;
        part.FileName.Should().Be("report.bin");
        MailKitHarness.Decode(part).AsSpan().SequenceEqual(attachment).Should().BeTrue("the attachment's bytes survive the round trip");

        // The stored content is exactly what MimeKit serialised (CRLF, no dot-stuffing left).
        using var expected = new MemoryStream();
        await message.WriteToAsync(WireFormat, expected, cts.Token);
        stored.Content.ToArray().AsSpan().SequenceEqual(expected.ToArray()).Should().BeTrue("the server stores the bytes the client sent");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Bcc_recipients_are_in_the_envelope_but_not_in_the_stored_headers()
    {
        await using var server = await TestServer.StartAsync();
        using var cts = Deadline();
        await using var mailKit = await MailKitHarness.ConnectAsync(server, cts.Token);

        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("alice@c.test"));
        message.To.Add(MailboxAddress.Parse("to@s.test"));
        message.Cc.Add(MailboxAddress.Parse("cc@s.test"));
        message.Bcc.Add(MailboxAddress.Parse("hidden1@s.test"));
        message.Bcc.Add(MailboxAddress.Parse("hidden2@other.test"));
        message.Subject = "Bcc test";
        message.Body = new TextPart(TextFormat.Plain) { Text = "Who can see whom?\r\n" };

        await mailKit.SendAsync(message);

        var stored = server.Messages.Messages.Should().ContainSingle().Subject;
        stored.Envelope.Recipients.Select(r => r.Mailbox.Address)
            .Should().BeEquivalentTo(["to@s.test", "cc@s.test", "hidden1@s.test", "hidden2@other.test"], mailKit.Transcript);
        var parsed = MailKitHarness.Parse(stored);
        parsed.Bcc.Count.Should().Be(0);
        parsed.Headers.Contains(HeaderId.Bcc).Should().BeFalse();
        stored.GetContentAsString().Should().NotContain("hidden1").And.NotContain("hidden2");
        parsed.To.Mailboxes.Single().Address.Should().Be("to@s.test");
        parsed.Cc.Mailboxes.Single().Address.Should().Be("cc@s.test");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Utf8_sender_and_recipient_are_delivered_with_SMTPUTF8()
    {
        await using var server = await TestServer.StartAsync();
        using var cts = Deadline();
        await using var mailKit = await MailKitHarness.ConnectAsync(server, cts.Token);
        mailKit.Client.Capabilities.Should().HaveFlag(SmtpCapabilities.UTF8, "the server advertises SMTPUTF8");

        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Jöran Grüße", "jöran@exämple.test"));
        message.To.Add(new MailboxAddress("Zoë", "zoë@ñandú.test"));
        message.Subject = "Grüße aus Köln — ünïcödé ✓";
        message.Body = new TextPart(TextFormat.Plain) { Text = "Hällo Zoë, 日本語のテキスト.\r\n" };

        var options = FormatOptions.Default.Clone();
        options.International = true;
        var response = await mailKit.SendAsync(message, options);
        response.Should().StartWith("2.0.0");

        var transcript = mailKit.Transcript;
        transcript.Should().Contain("MAIL FROM:<jöran@exämple.test>").And.Contain("SMTPUTF8");
        transcript.Should().Contain("RCPT TO:<zoë@ñandú.test>");

        var stored = server.Messages.Messages.Should().ContainSingle().Subject;
        stored.Envelope.IsSmtpUtf8.Should().BeTrue(transcript);
        stored.Envelope.From!.LocalPart.Should().Be("jöran");
        stored.Envelope.From.Domain.Should().Be("exämple.test");
        stored.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("zoë@ñandú.test");

        var parsed = MailKitHarness.Parse(stored);
        parsed.From.Mailboxes.Single().Address.Should().Be("jöran@exämple.test");
        parsed.From.Mailboxes.Single().Name.Should().Be("Jöran Grüße");
        parsed.To.Mailboxes.Single().Address.Should().Be("zoë@ñandú.test");
        parsed.Subject.Should().Be("Grüße aus Köln — ünïcödé ✓");
        Crlf(parsed.TextBody).Should().Be("Hällo Zoë, 日本語のテキスト.\r\n");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Lines_starting_with_dots_are_unstuffed()
    {
        await using var server = await TestServer.StartAsync();
        using var cts = Deadline();
        await using var mailKit = await MailKitHarness.ConnectAsync(server, cts.Token);

        const string body = ".first line starts with a dot\r\n.\r\n..\r\n...three\r\n. space\r\nplain\r\n.\r\n";
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("alice@c.test"));
        message.To.Add(MailboxAddress.Parse("bob@s.test"));
        message.Subject = "dots";
        message.Body = new TextPart(TextFormat.Plain) { Text = body, ContentTransferEncoding = ContentEncoding.SevenBit };

        await mailKit.SendAsync(message);

        var stored = server.Messages.Messages.Should().ContainSingle().Subject;
        var parsed = MailKitHarness.Parse(stored);
        Crlf(parsed.TextBody).Should().Be(body);
        var raw = stored.GetContentAsString();
        raw.Should().EndWith("\r\n\r\n" + body, "the body follows the headers byte for byte, without stuffing dots");

        using var expected = new MemoryStream();
        await message.WriteToAsync(WireFormat, expected, cts.Token);
        stored.Content.ToArray().AsSpan().SequenceEqual(expected.ToArray()).Should().BeTrue(mailKit.Transcript);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Several_messages_on_one_connection_are_each_stored_in_order()
    {
        await using var server = await TestServer.StartAsync();
        using var cts = Deadline();
        await using var mailKit = await MailKitHarness.ConnectAsync(server, cts.Token);

        const int count = 10;
        for (var i = 0; i < count; i++)
        {
            var message = new MimeMessage();
            message.From.Add(MailboxAddress.Parse($"sender{i}@c.test"));
            message.To.Add(MailboxAddress.Parse($"rcpt{i}@s.test"));
            if (i % 2 == 1)
            {
                message.To.Add(MailboxAddress.Parse($"second{i}@s.test"));
            }

            message.Subject = $"Message number {i}";
            message.Body = new TextPart(TextFormat.Plain) { Text = new string('x', i * 1000) + $"\r\nbody {i}\r\n" };
            await mailKit.SendAsync(message);
        }

        var stored = server.Messages.Messages;
        stored.Should().HaveCount(count, mailKit.Transcript);
        stored.Select(m => m.SessionId).Distinct().Should().ContainSingle("all messages came over one connection");
        for (var i = 0; i < count; i++)
        {
            stored[i].Envelope.From!.Address.Should().Be($"sender{i}@c.test");
            stored[i].Envelope.Recipients.Should().HaveCount(i % 2 == 1 ? 2 : 1);
            var parsed = MailKitHarness.Parse(stored[i]);
            parsed.Subject.Should().Be($"Message number {i}");
            Crlf(parsed.TextBody).Should().EndWith($"\r\nbody {i}\r\n");
        }
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Rejected_recipient_surfaces_as_SmtpCommandException_with_550_and_the_connection_stays_usable()
    {
        var filter = new RecipientRuleFilter(r => r.Mailbox.LocalPart == "nobody" ? SmtpReply.MailboxUnavailable : null);
        await using var server = await TestServer.StartAsync(filter: filter);
        using var cts = Deadline();
        await using var mailKit = await MailKitHarness.ConnectAsync(server, cts.Token);

        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("alice@c.test"));
        message.To.Add(MailboxAddress.Parse("bob@s.test"));
        message.To.Add(MailboxAddress.Parse("nobody@s.test"));
        message.Subject = "to a missing mailbox";
        message.Body = new TextPart(TextFormat.Plain) { Text = "Hello?\r\n" };

        var act = () => mailKit.SendAsync(message);
        var thrown = await act.Should().ThrowAsync<SmtpCommandException>();
        var ex = thrown.Which;
        ex.ErrorCode.Should().Be(SmtpErrorCode.RecipientNotAccepted, mailKit.Transcript);
        ex.StatusCode.Should().Be(SmtpStatusCode.MailboxUnavailable);
        ((int)ex.StatusCode).Should().Be(550);
        ex.Mailbox!.Address.Should().Be("nobody@s.test");
        ex.Message.Should().Contain("5.1.1");
        mailKit.Transcript.Should().Contain("550 5.1.1");
        server.Messages.Count.Should().Be(0, "MailKit gives up on the whole message when a recipient is refused");

        // The session is still in a clean state: the next message goes through.
        var next = new MimeMessage();
        next.From.Add(MailboxAddress.Parse("alice@c.test"));
        next.To.Add(MailboxAddress.Parse("bob@s.test"));
        next.Subject = "second try";
        next.Body = new TextPart(TextFormat.Plain) { Text = "Only Bob this time.\r\n" };
        await mailKit.SendAsync(next);

        var stored = server.Messages.Messages.Should().ContainSingle().Subject;
        stored.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("bob@s.test");
        MailKitHarness.Parse(stored).Subject.Should().Be("second try");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task Eight_bit_body_goes_with_BODY_8BITMIME_and_is_stored_unchanged()
    {
        await using var server = await TestServer.StartAsync();
        using var cts = Deadline();
        await using var mailKit = await MailKitHarness.ConnectAsync(server, cts.Token);

        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("alice@c.test"));
        message.To.Add(MailboxAddress.Parse("bob@s.test"));
        message.Subject = "8bit";
        var text = "Straße, Ærø, Ελληνικά, 中文\r\n";
        var part = new TextPart(TextFormat.Plain) { ContentTransferEncoding = ContentEncoding.EightBit };
        part.SetText(Encoding.UTF8, text);
        message.Body = part;

        await mailKit.SendAsync(message);

        mailKit.Transcript.Should().Contain("BODY=8BITMIME");
        var stored = server.Messages.Messages.Should().ContainSingle().Subject;
        stored.Envelope.BodyType.Should().Be(SmtpBodyType.EightBitMime);
        Crlf(MailKitHarness.Parse(stored).TextBody).Should().Be(text);
        stored.Content.ToArray().AsSpan().IndexOf(Encoding.UTF8.GetBytes("Straße")).Should().BeGreaterThan(0, "8-bit octets are stored as sent");
    }
}
