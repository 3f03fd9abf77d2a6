using System.Security.Authentication;

namespace StartTls.Smtp.Tls;

/// <summary>
/// TLS settings: where certificates come from, protocol versions, handshake timeout and client certificates.
/// STARTTLS is offered, and implicit-TLS endpoints work, only when a certificate is configured here.
/// </summary>
public sealed class SmtpTlsOptions
{
    /// <summary>The default certificate: a PEM file (chain, leaf first) or a PKCS#12 file. Reloaded when it changes.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>The PEM private key for <see cref="CertificatePath"/>, when it is a separate file.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PKCS#12 password, or the password of an encrypted PEM key.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Certificates chosen by SNI host name (exact names, or <c>*.example.com</c> wildcards).</summary>
    public IList<SniCertificateOptions> SniCertificates { get; } = [];

    /// <summary>
    /// Chooses certificates in code; when set, it is used instead of the file settings above. Not bound from configuration.
    /// </summary>
    public IServerCertificateSelector? CertificateSelector { get; set; }

    /// <summary>The TLS versions accepted. Default TLS 1.2 and TLS 1.3.</summary>
    public SslProtocols EnabledProtocols { get; set; } = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>The most time a TLS handshake may take; then the connection is closed. Default 10 seconds.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Whether clients are asked for a certificate. Default <see cref="ClientCertificateMode.NoCertificate"/>.</summary>
    public ClientCertificateMode ClientCertificateMode { get; set; }

    /// <summary>True when a certificate source is configured, in code or as files.</summary>
    public bool IsConfigured => CertificateSelector is not null || !string.IsNullOrEmpty(CertificatePath) || SniCertificates.Count > 0;
}
