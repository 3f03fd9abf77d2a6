namespace StartTls.Smtp.Authentication;

/// <summary>Validates OAuth 2.0 bearer tokens (XOAUTH2, OAUTHBEARER RFC 7628).</summary>
public interface IOAuthTokenValidator
{
    /// <summary>Validates <paramref name="token"/>; returns the identity it grants, or <see langword="null"/> to refuse.</summary>
    /// <param name="session">The connection's facts.</param>
    /// <param name="userName">The user the client claims (XOAUTH2 <c>user=</c>, OAUTHBEARER <c>a=</c>), or <see langword="null"/>.</param>
    /// <param name="token">The bearer token. Never log it.</param>
    /// <param name="cancellationToken">Cancelled when the connection ends.</param>
    /// <returns>The identity, or <see langword="null"/>.</returns>
    ValueTask<string?> ValidateAsync(SmtpSession session, string? userName, string token, CancellationToken cancellationToken);
}
