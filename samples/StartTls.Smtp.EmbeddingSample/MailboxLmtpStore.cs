// <readme:lmtp-store>
using StartTls.Smtp;
using StartTls.Smtp.Storage;
// </readme:lmtp-store>

namespace StartTls.Smtp.EmbeddingSample;

// <readme:lmtp-store>
internal sealed class MailboxLmtpStore(IReadOnlySet<string> mailboxes) : ILmtpMessageStore
{
    public async ValueTask<IReadOnlyList<SmtpReply>> SaveForEachRecipientAsync(
        SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        using var message = new MemoryStream();
        await content.CopyToAsync(message, cancellationToken); // read it all before any 2xx
        var replies = new SmtpReply[envelope.Recipients.Count];
        for (var i = 0; i < replies.Length; i++)
        {
            // Deliver to each mailbox here; each recipient gets its own outcome, in RCPT order.
            replies[i] = mailboxes.Contains(envelope.Recipients[i].Mailbox.Address)
                ? SmtpReply.MessageAccepted
                : SmtpReply.MailboxUnavailable;
        }

        return replies;
    }

    // Called on SMTP endpoints only, where one reply answers for every recipient: this store is for LMTP (451).
    public ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
        => throw new NotSupportedException("This store serves LMTP endpoints only.");
}
// </readme:lmtp-store>
