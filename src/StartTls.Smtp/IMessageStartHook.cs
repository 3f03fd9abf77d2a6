namespace StartTls.Smtp;

/// <summary>
/// An optional capability of an <see cref="IMailboxFilter"/>: decides, once all recipients are known, whether the
/// message may be sent at all (Postfix's <c>smtpd_data_restrictions</c>). Return the reply instead of throwing; an
/// exception becomes <c>451 4.3.0</c>, and a <c>421</c> reply closes the connection.
/// </summary>
public interface IMessageStartHook
{
    /// <summary>
    /// Called at <c>DATA</c> before <c>354</c> is sent, or at the first <c>BDAT</c> of a message before its chunk is
    /// taken. Return <see langword="null"/> to receive the message, or a 4xx/5xx reply that is sent instead: after
    /// DATA no content is read; a refused BDAT chunk is still read and dropped (RFC 3030 §2), and the transaction's
    /// later chunks are refused until <c>RSET</c>. The transaction stays open either way (the client sends
    /// <c>RSET</c> or <c>QUIT</c>). A positive reply counts as <see langword="null"/>.
    /// </summary>
    /// <param name="transaction">The transaction, with its accepted recipients.</param>
    /// <param name="cancellationToken">Cancelled when the connection ends.</param>
    /// <returns><see langword="null"/> to accept, or the refusal.</returns>
    ValueTask<SmtpReply?> OnMessageStartingAsync(SmtpTransaction transaction, CancellationToken cancellationToken);
}
