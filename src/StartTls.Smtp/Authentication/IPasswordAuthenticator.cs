namespace StartTls.Smtp.Authentication;

/// <summary>Checks a user name and password (PLAIN, LOGIN). The application's extension point.</summary>
public interface IPasswordAuthenticator
{
    /// <summary>
    /// Checks the credentials. Return the identity to record (usually <paramref name="userName"/>, or the authorization
    /// identity if the user may act as it), or <see langword="null"/> to refuse. Take the same time for an unknown user
    /// as for a wrong password: the client gets the same reply either way.
    /// </summary>
    /// <param name="session">The connection's facts (remote address, TLS).</param>
    /// <param name="userName">The authentication identity.</param>
    /// <param name="password">The password. Never log it.</param>
    /// <param name="authorizationIdentity">The identity to act as (PLAIN's authzid), or <see langword="null"/>.</param>
    /// <param name="cancellationToken">Cancelled when the connection ends.</param>
    /// <returns>The identity, or <see langword="null"/>.</returns>
    ValueTask<string?> AuthenticateAsync(SmtpSession session, string userName, string password, string? authorizationIdentity, CancellationToken cancellationToken);
}
