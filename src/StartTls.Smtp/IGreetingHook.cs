namespace StartTls.Smtp;

/// <summary>
/// An optional capability of an <see cref="ISessionHandler"/>: decides on each <c>EHLO</c> or <c>HELO</c> that passed
/// the syntax checks (a name that does not match the client's address, a banned name...). Return the reply instead
/// of throwing; an exception becomes <c>451 4.3.0</c>, and a <c>421</c> reply closes the connection.
/// </summary>
public interface IGreetingHook
{
    /// <summary>
    /// Called with <see cref="SmtpSession.HeloName"/> and <see cref="SmtpSession.IsExtended"/> already set to the new
    /// greeting. Return <see langword="null"/> for the normal reply (the EHLO keywords), or a reply that is sent
    /// instead, typically <c>550 5.7.1</c>: the client is then not greeted (HELO name cleared, MAIL refused until a
    /// greeting is accepted). A positive reply counts as <see langword="null"/>.
    /// </summary>
    /// <param name="session">The session, with the name just given.</param>
    /// <param name="cancellationToken">Cancelled when the connection ends.</param>
    /// <returns><see langword="null"/> to accept, or the refusal.</returns>
    ValueTask<SmtpReply?> OnGreetingAsync(SmtpSession session, CancellationToken cancellationToken);
}
