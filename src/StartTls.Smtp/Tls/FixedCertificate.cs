using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace StartTls.Smtp.Tls;

/// <summary>A certificate that never changes, such as one created in code or loaded by the application.</summary>
public sealed class FixedCertificate : ICertificateSource
{
    private readonly SslStreamCertificateContext _context;

    /// <summary>Wraps <paramref name="certificate"/> (which must have its private key) and its intermediate chain.</summary>
    /// <param name="certificate">The server certificate with its private key.</param>
    /// <param name="chain">Intermediate certificates to send with it; optional.</param>
    public FixedCertificate(X509Certificate2 certificate, X509Certificate2Collection? chain = null)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (!certificate.HasPrivateKey)
        {
            throw new ArgumentException("The server certificate must have its private key.", nameof(certificate));
        }

        Certificate = certificate;
        _context = SslStreamCertificateContext.Create(certificate, chain, offline: true);
    }

    /// <summary>The certificate.</summary>
    public X509Certificate2 Certificate { get; }

    /// <inheritdoc />
    public SslStreamCertificateContext GetCertificate() => _context;
}
