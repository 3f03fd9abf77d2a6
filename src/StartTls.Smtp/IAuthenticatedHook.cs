namespace StartTls.Smtp;

/// <summary>
/// An optional capability of an <see cref="ISessionHandler"/>: learns of each successful <c>AUTH</c> and may still
/// refuse it (an account that is valid but barred from submitting here). An exception becomes
/// <c>454 4.7.0</c> and the identity is forgotten.
/// </summary>
public interface IAuthenticatedHook
{
    /// <summary>
    /// Called once the credentials were accepted, with <see cref="SmtpSession.AuthenticatedIdentity"/> and
    /// <see cref="SmtpSession.AuthenticationMechanism"/> set, before <c>235</c> is sent. Return <see langword="null"/>
    /// to let the <c>235</c> go, or a reply (typically <c>535 5.7.8</c> or <c>550 5.7.1</c>) that is sent instead:
    /// the identity is then forgotten and the session is not authenticated. A positive reply counts as <see langword="null"/>.
    /// </summary>
    /// <param name="session">The session, authenticated.</param>
    /// <param name="cancellationToken">Cancelled when the connection ends.</param>
    /// <returns><see langword="null"/> to accept, or the refusal.</returns>
    ValueTask<SmtpReply?> OnAuthenticatedAsync(SmtpSession session, CancellationToken cancellationToken);
}
