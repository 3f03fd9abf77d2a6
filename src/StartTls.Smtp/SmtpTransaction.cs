namespace StartTls.Smtp;

/// <summary>
/// One mail transaction, from an accepted-or-refused <c>MAIL</c> to its end (<see cref="SmtpTransactionEndReason"/>):
/// the object every hook of the transaction sees through <see cref="SmtpSession.Transaction"/>, with a place for
/// the application's state (<see cref="Items"/>) that the next transaction does not inherit.
/// </summary>
/// <remarks>
/// The server creates one at each <c>MAIL</c>; to test a filter or a store without a socket, create one with
/// <see cref="CreateForTesting"/>.
/// </remarks>
public sealed class SmtpTransaction
{
    private readonly int _number;
    private Dictionary<object, object?>? _items;
    private string? _id;

    internal SmtpTransaction(int number, SmtpSession session, SmtpEnvelope envelope, DateTimeOffset startedAt)
    {
        _number = number;
        Session = session;
        Envelope = envelope;
        StartedAt = startedAt;
    }

    /// <summary>Identifies the transaction: the session's <see cref="SmtpSession.Id"/>, a dot and its number in the session (from 1).</summary>
    public string Id => _id ??= string.Concat(Session.Id, ".", _number.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The session the transaction belongs to.</summary>
    public SmtpSession Session { get; }

    /// <summary>The transaction's envelope: the reverse path from <c>MAIL</c> and the recipients accepted so far.</summary>
    public SmtpEnvelope Envelope { get; }

    /// <summary>When <c>MAIL</c> was received.</summary>
    public DateTimeOffset StartedAt { get; }

    /// <summary>
    /// The reply sent to the message's content (the store's, or the <see cref="IMessageVerdictHook"/>'s), once it is
    /// known; <see langword="null"/> before, and for a transaction that ended without one.
    /// </summary>
    public SmtpReply? MessageReply { get; internal set; }

    /// <summary>Application state for this transaction only (the session's is <see cref="SmtpSession.Items"/>); the server never reads it.</summary>
    public IDictionary<object, object?> Items => _items ??= [];

    /// <summary>
    /// Creates a transaction for a unit test of a filter, a store or a hook, and makes it the session's current one
    /// (<see cref="SmtpSession.Transaction"/>), as the server does at <c>MAIL</c>.
    /// </summary>
    /// <param name="session">The session, for example from <see cref="SmtpSession.CreateForTesting"/>.</param>
    /// <param name="envelope">The envelope, for example from <see cref="SmtpEnvelope.CreateForTesting"/>.</param>
    /// <returns>The transaction, started now.</returns>
    public static SmtpTransaction CreateForTesting(SmtpSession session, SmtpEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(envelope);
        var transaction = new SmtpTransaction(1, session, envelope, DateTimeOffset.UtcNow);
        session.Transaction = transaction;
        return transaction;
    }
}
