namespace StartTls.Smtp;

/// <summary>
/// An optional capability of an <see cref="IMailboxFilter"/>: the content filter's verdict on a message that was
/// received to its end, given the store's reply and allowed to replace it before it is sent (a spam or virus
/// verdict that turns <c>250</c> into <c>550 5.7.1</c> or <c>554 5.7.1</c>).
/// </summary>
/// <remarks>
/// The store has run already, so a verdict that refuses a message the store kept must see that it is dropped
/// (the store can leave a note in <see cref="SmtpTransaction.Items"/>); a verdict computed from the content is put
/// there by the store too. A failed store is never made a success: a positive reply in answer to a negative store
/// reply is ignored. An exception becomes <c>451 4.3.0</c>, even after the store said <c>250</c>.
/// </remarks>
public interface IMessageVerdictHook
{
    /// <summary>Called after the store returned and the content was read to its end, before the reply is sent.</summary>
    /// <param name="transaction">The transaction.</param>
    /// <param name="storeReply">The store's reply (<c>451 4.3.0</c> when the store failed or did not read the whole message).</param>
    /// <param name="cancellationToken">Cancelled when the connection ends.</param>
    /// <returns>The reply to send: <paramref name="storeReply"/> to keep it, or another.</returns>
    ValueTask<SmtpReply> OnMessageReceivedAsync(SmtpTransaction transaction, SmtpReply storeReply, CancellationToken cancellationToken);
}
