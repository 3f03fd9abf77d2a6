namespace StartTls.Smtp.Storage;

/// <summary>
/// A message store that decides delivery per recipient, for LMTP endpoints (RFC 2033 §4.2): after the content the
/// server sends one reply per accepted recipient, in RCPT order, and these are the replies.
/// </summary>
/// <remarks>
/// <para>
/// On an LMTP endpoint the server calls <see cref="SaveForEachRecipientAsync"/> instead of
/// <see cref="IMessageStore.SaveAsync"/>; on an SMTP endpoint it calls <see cref="IMessageStore.SaveAsync"/> as for any
/// store. The content stream behaves exactly as for <see cref="IMessageStore.SaveAsync"/>: read it to its end before
/// returning a positive reply. A plain <see cref="IMessageStore"/> on an LMTP endpoint has its single reply repeated
/// for every recipient.
/// </para>
/// <para>
/// Return exactly one reply per recipient of <see cref="SmtpEnvelope.Recipients"/>, in that order, for example
/// <c>250</c> for a mailbox that took the message, <c>452 4.2.2</c> for one over quota and <c>550 5.1.1</c> for one that
/// no longer exists. A list of another length, or an exception, makes the server answer <c>451 4.3.0</c> for every
/// recipient, so the client tries them all again. A <c>421</c> among the replies closes the session after they are sent.
/// </para>
/// </remarks>
public interface ILmtpMessageStore : IMessageStore
{
    /// <summary>Stores one message and returns the reply for each recipient (a 2xx reply only once it is durably kept for that recipient).</summary>
    /// <param name="session">The connection's facts (<see cref="SmtpSession.IsLmtp"/> is true).</param>
    /// <param name="envelope">The transaction's reverse path, recipients and parameters.</param>
    /// <param name="content">The message content as it arrives.</param>
    /// <param name="cancellationToken">Cancelled when the transaction is aborted or the server shuts down.</param>
    /// <returns>One reply per recipient, in the order of <see cref="SmtpEnvelope.Recipients"/>.</returns>
    ValueTask<IReadOnlyList<SmtpReply>> SaveForEachRecipientAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken);
}
