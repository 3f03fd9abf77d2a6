using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>A test CA and leaf certificates it issues, made in memory with <see cref="CertificateRequest"/>.</summary>
public static class TestCertificates
{
    private static readonly Lazy<X509Certificate2> LazyCa = new(CreateCa);

    /// <summary>The test root CA (with its key).</summary>
    public static X509Certificate2 Ca => LazyCa.Value;

    /// <summary>
    /// Issues an ECDSA P-256 server certificate for <paramref name="names"/> (DNS SANs; a name that is an IP address
    /// becomes an IP address SAN), signed by <see cref="Ca"/>.
    /// </summary>
    public static X509Certificate2 IssueServer(params string[] names)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + names[0], key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        foreach (var name in names)
        {
            if (System.Net.IPAddress.TryParse(name, out var address))
            {
                san.AddIpAddress(address);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        using var issued = request.Create(Ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(30), serial);
        return issued.CopyWithPrivateKey(key);
    }

    /// <summary>Writes <paramref name="certificate"/> as a PEM chain file (leaf then CA) and a PEM key file.</summary>
    public static (string CertificatePath, string KeyPath) WritePem(X509Certificate2 certificate, string directory, string baseName)
    {
        Directory.CreateDirectory(directory);
        var certPath = Path.Combine(directory, baseName + ".crt");
        var keyPath = Path.Combine(directory, baseName + ".key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem() + "\n" + Ca.ExportCertificatePem() + "\n");
        using var key = certificate.GetECDsaPrivateKey() ?? throw new InvalidOperationException("ECDSA key expected");
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem() + "\n");
        return (certPath, keyPath);
    }

    /// <summary>Validates a server certificate against <see cref="Ca"/> only (custom trust).</summary>
    public static bool ValidateAgainstCa(X509Certificate? certificate, string expectedName)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        var leaf = certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return chain.Build(leaf) && leaf.MatchesHostname(expectedName);
    }

    private static X509Certificate2 CreateCa()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=StartTls.Smtp Test CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
    }
}
