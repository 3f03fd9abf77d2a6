using System.Net.Mail;
using System.Net.Mime;
using StartTls.Smtp.Tests.Infrastructure;
using MimeKit;

namespace StartTls.Smtp.Tests.Integration;

/// <summary>The framework's own System.Net.Mail.SmtpClient (kept for compatibility, not recommended) against the server.</summary>
public sealed class SystemNetMailClientTests
{
    [Fact(Timeout = 30_000)]
    public async Task Message_with_attachment_is_stored_intact()
    {
        await using var server = await TestServer.StartAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));

        var attachmentBytes = new byte[64_000];
        new Random(7).NextBytes(attachmentBytes);

#pragma warning disable SYSLIB0014, CS0618 // System.Net.Mail.SmtpClient is "not recommended"; here it is the client under test.
        using var client = new System.Net.Mail.SmtpClient("127.0.0.1", server.Port)
        {
            DeliveryMethod = SmtpDeliveryMethod.Network,
            EnableSsl = false,
            UseDefaultCredentials = false,
            Timeout = 10_000,
        };
#pragma warning restore SYSLIB0014, CS0618

        using var message = new MailMessage("Alice <alice@c.test>", "bob@s.test")
        {
            Subject = "From System.Net.Mail",
            Body = "Hello from System.Net.Mail.\r\n.a line with a leading dot\r\nBye.",
        };
        message.CC.Add("carol@s.test");
        message.Bcc.Add("dave@s.test");
        using var attachmentStream = new MemoryStream(attachmentBytes);
        message.Attachments.Add(new Attachment(attachmentStream, "data.bin", MediaTypeNames.Application.Octet));

        await client.SendMailAsync(message, cts.Token);

        var stored = server.Messages.Messages.Should().ContainSingle().Subject;
        stored.Envelope.From!.Address.Should().Be("alice@c.test");
        stored.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().BeEquivalentTo(["bob@s.test", "carol@s.test", "dave@s.test"]);

        var parsed = MailKitHarness.Parse(stored);
        parsed.Subject.Should().Be("From System.Net.Mail");
        parsed.TextBody!.ReplaceLineEndings("\r\n").TrimEnd().Should().Be("Hello from System.Net.Mail.\r\n.a line with a leading dot\r\nBye.");
        parsed.Bcc.Count.Should().Be(0);
        var part = parsed.Attachments.OfType<MimePart>().Should().ContainSingle().Subject;
        part.FileName.Should().Be("data.bin");
        MailKitHarness.Decode(part).AsSpan().SequenceEqual(attachmentBytes).Should().BeTrue("the attachment's bytes survive the round trip");
    }
}
