namespace StartTls.Smtp;

/// <summary>
/// Accepts or refuses the sender and each recipient of a transaction, with any reply: greylisting
/// (<c>450 4.2.0</c>), unknown users (<c>550 5.1.1</c>), relaying refused (<c>551</c>/<c>554</c>) and so on.
/// Return the reply instead of throwing; an exception becomes <c>451 4.3.0</c>.
/// </summary>
/// <remarks>
/// A filter may also implement <see cref="IMessageStartHook"/> (DATA/BDAT), <see cref="IMessageVerdictHook"/> (the
/// reply to the content) and <see cref="ITransactionEndHook"/>; the current transaction is
/// <see cref="SmtpSession.Transaction"/>.
/// </remarks>
public interface IMailboxFilter
{
    /// <summary>Decides on <c>MAIL FROM</c>. A 2xx reply accepts the sender.</summary>
    /// <param name="session">The connection's facts.</param>
    /// <param name="envelope">The transaction being opened: reverse path, parameters, no recipients yet.</param>
    /// <param name="cancellationToken">Cancelled when the connection ends.</param>
    /// <returns>The reply, for example <see cref="SmtpReply.SenderOk"/>.</returns>
    ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken);

    /// <summary>Decides on one <c>RCPT TO</c>. A 2xx reply accepts the recipient.</summary>
    /// <param name="session">The connection's facts.</param>
    /// <param name="envelope">The transaction so far, with the recipients accepted before this one.</param>
    /// <param name="recipient">The recipient to decide on.</param>
    /// <param name="cancellationToken">Cancelled when the connection ends.</param>
    /// <returns>The reply, for example <see cref="SmtpReply.RecipientOk"/> or <see cref="SmtpReply.MailboxUnavailable"/>.</returns>
    ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken);
}
