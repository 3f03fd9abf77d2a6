namespace StartTls.Smtp.Authentication;

/// <summary>Supplies the shared secret of a user for CRAM-MD5 (RFC 2195), which needs it in the clear on the server.</summary>
public interface ICramMd5SecretProvider
{
    /// <summary>Finds the user's secret, or <see langword="null"/> for an unknown user.</summary>
    /// <param name="session">The connection's facts.</param>
    /// <param name="userName">The user name.</param>
    /// <param name="cancellationToken">Cancelled when the connection ends.</param>
    /// <returns>The secret, or <see langword="null"/>.</returns>
    ValueTask<string?> FindSecretAsync(SmtpSession session, string userName, CancellationToken cancellationToken);
}
