// <readme:filter>
using StartTls.Smtp;
// </readme:filter>

namespace StartTls.Smtp.EmbeddingSample;

// <readme:filter>
internal sealed class ExampleComFilter : IMailboxFilter
{
    public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken)
        => ValueTask.FromResult(SmtpReply.SenderOk);

    public ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken)
        => ValueTask.FromResult(string.Equals(recipient.Mailbox.Domain, "example.com", StringComparison.OrdinalIgnoreCase)
            ? SmtpReply.RecipientOk            // 250 2.1.5
            : SmtpReply.MailboxUnavailable);   // 550 5.1.1
}
// </readme:filter>
