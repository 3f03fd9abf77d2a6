using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StartTls.Smtp.Server;

/// <summary>
/// A self-signed certificate for localhost, so that STARTTLS works out of the box. Kept as PEM files and reused
/// across runs (renewed when it nears expiry); ECDSA P-256, the cheapest handshake. Never for production.
/// </summary>
internal static class DevelopmentCertificate
{
    /// <summary>Returns the certificate and key paths in <paramref name="directory"/>, creating them if needed.</summary>
    /// <param name="directory">Where the files live.</param>
    /// <param name="created">True when a new certificate was made.</param>
    /// <returns>The PEM certificate and key paths.</returns>
    public static (string CertificatePath, string KeyPath) Ensure(string directory, out bool created)
    {
        var certificatePath = Path.Combine(directory, "localhost.crt");
        var keyPath = Path.Combine(directory, "localhost.key");
        created = false;
        if (File.Exists(certificatePath) && File.Exists(keyPath))
        {
            try
            {
                using var existing = X509Certificate2.CreateFromPemFile(certificatePath, keyPath);
                if (existing.NotAfter > DateTime.Now.AddDays(7))
                {
                    return (certificatePath, keyPath);
                }
            }
            catch (CryptographicException)
            {
                // Unreadable: make a new one below.
            }
        }

        Directory.CreateDirectory(directory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));

        // Write the key first and readable by the owner only; then the certificate, so a half-written pair is never used.
        var keyTemp = keyPath + ".tmp";
        File.WriteAllText(keyTemp, key.ExportPkcs8PrivateKeyPem() + "\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyTemp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(keyTemp, keyPath, overwrite: true);
        var certTemp = certificatePath + ".tmp";
        File.WriteAllText(certTemp, certificate.ExportCertificatePem() + "\n");
        File.Move(certTemp, certificatePath, overwrite: true);
        created = true;
        return (certificatePath, keyPath);
    }
}
