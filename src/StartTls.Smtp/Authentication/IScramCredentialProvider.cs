namespace StartTls.Smtp.Authentication;

/// <summary>Supplies the stored SCRAM keys of a user (SCRAM-SHA-256): the application never needs the password.</summary>
public interface IScramCredentialProvider
{
    /// <summary>Finds the user's SCRAM-SHA-256 credential, or <see langword="null"/> for an unknown user.</summary>
    /// <param name="session">The connection's facts.</param>
    /// <param name="userName">The authentication identity.</param>
    /// <param name="cancellationToken">Cancelled when the connection ends.</param>
    /// <returns>The credential, or <see langword="null"/>.</returns>
    ValueTask<ScramCredential?> FindAsync(SmtpSession session, string userName, CancellationToken cancellationToken);
}
