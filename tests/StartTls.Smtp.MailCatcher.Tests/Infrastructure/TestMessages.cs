using MimeKit;

namespace StartTls.Smtp.MailCatcher.Tests.Infrastructure;

/// <summary>Messages the tests send.</summary>
internal static class TestMessages
{
    /// <summary>A text-only message.</summary>
    public static MimeMessage Text(string subject, string body = "Hello from the test.", string from = "sender@example.com", string to = "rcpt@example.org")
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse(from));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = body };
        return message;
    }

    /// <summary>A message with a text part, an HTML part and attachments, built with MimeKit's BodyBuilder.</summary>
    public static MimeMessage Rich(string subject, string text, string html, params (string Name, byte[] Content, string ContentType)[] attachments)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Sender Name", "sender@example.com"));
        message.To.Add(new MailboxAddress("Recipient", "rcpt@example.org"));
        message.Subject = subject;
        var body = new BodyBuilder { TextBody = text, HtmlBody = html };
        foreach (var (name, content, contentType) in attachments)
        {
            body.Attachments.Add(name, content, ContentType.Parse(contentType));
        }

        message.Body = body.ToMessageBody();
        return message;
    }
}
