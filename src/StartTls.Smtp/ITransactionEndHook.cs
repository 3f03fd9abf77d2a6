namespace StartTls.Smtp;

/// <summary>
/// An optional capability of an <see cref="IMailboxFilter"/>: told when its transaction ends, whatever the way
/// (<see cref="SmtpTransactionEndReason"/>), before the transaction's dependency-injection scope is disposed.
/// Exceptions are logged and ignored.
/// </summary>
public interface ITransactionEndHook
{
    /// <summary>Called once per transaction that the filter saw begin (every <c>MAIL</c> with valid syntax).</summary>
    /// <param name="transaction">The transaction that ended.</param>
    /// <param name="reason">Why it ended.</param>
    /// <returns>A task that completes when the hook is done.</returns>
    ValueTask OnTransactionEndedAsync(SmtpTransaction transaction, SmtpTransactionEndReason reason);
}
