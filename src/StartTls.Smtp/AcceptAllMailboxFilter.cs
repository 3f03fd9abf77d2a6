namespace StartTls.Smtp;

/// <summary>The default <see cref="IMailboxFilter"/>: accepts every sender and every recipient.</summary>
public sealed class AcceptAllMailboxFilter : IMailboxFilter
{
    /// <summary>The shared instance.</summary>
    public static AcceptAllMailboxFilter Instance { get; } = new();

    /// <inheritdoc />
    public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken)
        => ValueTask.FromResult(SmtpReply.SenderOk);

    /// <inheritdoc />
    public ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken)
        => ValueTask.FromResult(SmtpReply.RecipientOk);
}
