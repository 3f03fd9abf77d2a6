using MailKit;
using MailKit.Net.Smtp;
using MimeKit;

namespace StartTls.Smtp.Gateway;

/// <summary>
/// MailKit's <see cref="SmtpClient"/> fitted for relaying. MailKit sends a message only as a whole transaction from a
/// <see cref="MimeMessage"/> and keeps its connection stream internal, so the gateway asks the upstream about each
/// recipient at RCPT time with <see cref="SmtpClient.SendCommandAsync"/> (MAIL, RCPT: the upstream's verdict is the
/// client's reply), resets that probe at the end of data and then sends the parsed message to the accepted recipients
/// with <see cref="SmtpClient.SendAsync(FormatOptions, MimeMessage, MailboxAddress, IEnumerable{MailboxAddress}, CancellationToken, MailKit.ITransferProgress)"/>.
/// The overrides below carry the client's DSN parameters (RET, ENVID, NOTIFY) into that transaction; MailKit 4.18
/// lets no subclass set ORCPT, so the upstream gets MailKit's own (the RCPT address), not the client's.
/// </summary>
internal sealed class UpstreamClient : SmtpClient
{
    /// <summary>The client's envelope whose message is being sent, for the DSN overrides.</summary>
    public SmtpEnvelope? Sending { get; set; }

    /// <summary>Sends one command and returns the upstream's reply, whatever its code.</summary>
    public Task<SmtpResponse> CommandAsync(string command, CancellationToken cancellationToken)
        => SendCommandAsync(command, cancellationToken);

    /// <inheritdoc/>
    protected override string? GetEnvelopeId(MimeMessage message) => Sending?.DsnEnvelopeId;

    /// <inheritdoc/>
    protected override DeliveryStatusNotification? GetDeliveryStatusNotifications(MimeMessage message, MailboxAddress mailbox)
    {
        var notify = Find(mailbox)?.DsnNotify ?? DsnNotify.Unspecified;
        if (notify == DsnNotify.Unspecified)
        {
            return null;
        }

        if (notify.HasFlag(DsnNotify.Never))
        {
            return DeliveryStatusNotification.Never;
        }

        var result = default(DeliveryStatusNotification);
        result |= notify.HasFlag(DsnNotify.Success) ? DeliveryStatusNotification.Success : 0;
        result |= notify.HasFlag(DsnNotify.Failure) ? DeliveryStatusNotification.Failure : 0;
        result |= notify.HasFlag(DsnNotify.Delay) ? DeliveryStatusNotification.Delay : 0;
        return result;
    }

    private SmtpRecipient? Find(MailboxAddress mailbox)
    {
        if (Sending is null)
        {
            return null;
        }

        foreach (var recipient in Sending.Recipients)
        {
            if (string.Equals(recipient.Mailbox.Address, mailbox.Address, StringComparison.OrdinalIgnoreCase))
            {
                return recipient;
            }
        }

        return null;
    }
}
