using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace StartTls.Smtp.Authentication;

/// <summary>
/// Users and tokens kept in memory, for samples and tests: serves every credential hook (passwords for PLAIN and LOGIN,
/// SCRAM keys, CRAM-MD5 secrets, OAuth bearer tokens). Passwords are kept as salted hashes and compared in constant
/// time; an unknown user costs the same work as a wrong password.
/// </summary>
public sealed class InMemoryUserStore : IPasswordAuthenticator, IScramCredentialProvider, ICramMd5SecretProvider, IOAuthTokenValidator
{
    private static readonly byte[] DummySalt = RandomNumberGenerator.GetBytes(16);
    private static readonly byte[] DummyHash = RandomNumberGenerator.GetBytes(32);

    private readonly ConcurrentDictionary<string, User> _users = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _tokens = new(StringComparer.Ordinal);

    /// <summary>Adds or replaces a user.</summary>
    /// <param name="userName">The user name.</param>
    /// <param name="password">The password.</param>
    /// <returns>This store.</returns>
    public InMemoryUserStore AddUser(string userName, string password)
    {
        ArgumentException.ThrowIfNullOrEmpty(userName);
        ArgumentException.ThrowIfNullOrEmpty(password);
        var salt = RandomNumberGenerator.GetBytes(16);
        _users[userName] = new User(salt, Hash(salt, password), ScramCredential.FromPassword(password), password);
        return this;
    }

    /// <summary>Adds a bearer token that authenticates as <paramref name="userName"/>.</summary>
    /// <param name="token">The token.</param>
    /// <param name="userName">The identity it grants.</param>
    /// <returns>This store.</returns>
    public InMemoryUserStore AddToken(string token, string userName)
    {
        ArgumentException.ThrowIfNullOrEmpty(token);
        ArgumentException.ThrowIfNullOrEmpty(userName);
        _tokens[token] = userName;
        return this;
    }

    /// <inheritdoc />
    public ValueTask<string?> AuthenticateAsync(SmtpSession session, string userName, string password, string? authorizationIdentity, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(userName);
        ArgumentNullException.ThrowIfNull(password);
        var found = _users.TryGetValue(userName, out var user);
        var hash = Hash(found ? user!.Salt : DummySalt, password);
        var matches = CryptographicOperations.FixedTimeEquals(hash, found ? user!.PasswordHash : DummyHash) && found;

        // This store grants no proxy rights: an authorization identity must be the user itself.
        var authorized = authorizationIdentity is null || string.Equals(authorizationIdentity, userName, StringComparison.Ordinal);
        return ValueTask.FromResult(matches && authorized ? userName : null);
    }

    /// <inheritdoc />
    public ValueTask<ScramCredential?> FindAsync(SmtpSession session, string userName, CancellationToken cancellationToken)
        => ValueTask.FromResult(_users.TryGetValue(userName, out var user) ? user.Scram : null);

    /// <inheritdoc />
    public ValueTask<string?> FindSecretAsync(SmtpSession session, string userName, CancellationToken cancellationToken)
        => ValueTask.FromResult(_users.TryGetValue(userName, out var user) ? user.Secret : null);

    /// <inheritdoc />
    public ValueTask<string?> ValidateAsync(SmtpSession session, string? userName, string token, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (!_tokens.TryGetValue(token, out var owner))
        {
            return ValueTask.FromResult<string?>(null);
        }

        // A token is valid only for its own user, when the client names one.
        return ValueTask.FromResult(userName is null || string.Equals(userName, owner, StringComparison.Ordinal) ? owner : null);
    }

    private static byte[] Hash(byte[] salt, string password)
    {
        var bytes = Encoding.UTF8.GetBytes(password);
        var input = new byte[salt.Length + bytes.Length];
        salt.CopyTo(input, 0);
        bytes.CopyTo(input, salt.Length);
        return SHA256.HashData(input);
    }

    // CRAM-MD5 needs the shared secret itself (RFC 2195); that is why it is off unless enabled.
    private sealed record User(byte[] Salt, byte[] PasswordHash, ScramCredential Scram, string Secret);
}
