using System.Security.Cryptography;
using System.Text;

namespace StartTls.Smtp.Authentication;

/// <summary>
/// A stored SCRAM-SHA-256 credential (RFC 5802 §3, RFC 7677): salt, iteration count, StoredKey and ServerKey.
/// The password itself is never needed to verify a client.
/// </summary>
public sealed class ScramCredential
{
    /// <summary>Creates a credential from stored values.</summary>
    /// <param name="salt">The salt.</param>
    /// <param name="iterations">The PBKDF2 iteration count (RFC 7677 asks for at least 4096).</param>
    /// <param name="storedKey">H(ClientKey).</param>
    /// <param name="serverKey">HMAC(SaltedPassword, "Server Key").</param>
    public ScramCredential(byte[] salt, int iterations, byte[] storedKey, byte[] serverKey)
    {
        ArgumentNullException.ThrowIfNull(salt);
        ArgumentNullException.ThrowIfNull(storedKey);
        ArgumentNullException.ThrowIfNull(serverKey);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        Salt = salt;
        Iterations = iterations;
        StoredKey = storedKey;
        ServerKey = serverKey;
    }

    /// <summary>The salt.</summary>
    public byte[] Salt { get; }

    /// <summary>The iteration count.</summary>
    public int Iterations { get; }

    /// <summary>StoredKey = H(HMAC(SaltedPassword, "Client Key")).</summary>
    public byte[] StoredKey { get; }

    /// <summary>ServerKey = HMAC(SaltedPassword, "Server Key").</summary>
    public byte[] ServerKey { get; }

    /// <summary>Derives a credential from a password, for provisioning (store the result, not the password).</summary>
    /// <param name="password">The password.</param>
    /// <param name="iterations">The iteration count; default 4096.</param>
    /// <param name="salt">The salt; default 16 random bytes.</param>
    /// <returns>The credential.</returns>
    public static ScramCredential FromPassword(string password, int iterations = 4096, byte[]? salt = null)
    {
        ArgumentNullException.ThrowIfNull(password);
        salt ??= RandomNumberGenerator.GetBytes(16);
        var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, 32);
        var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
        var storedKey = SHA256.HashData(clientKey);
        var serverKey = HMACSHA256.HashData(salted, "Server Key"u8);
        return new ScramCredential(salt, iterations, storedKey, serverKey);
    }
}
