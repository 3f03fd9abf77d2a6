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

    /// <summary>
    /// Linux only, off by default: frees each TLS session's OpenSSL record buffers (about 34 KB) while they are empty,
    /// by setting OpenSSL's <c>SSL_MODE_RELEASE_BUFFERS</c> on the session after its handshake. Trades allocation churn
    /// for idle memory: an idle TLS session holds about 14 KiB less, but a busy one frees and allocates a ~17 KB
    /// buffer around reads and writes (most visible during a bulk DATA). Worth it for many mostly idle TLS sessions.
    /// </summary>
    /// <remarks>
    /// SslStream has no option for this: the session's native handle is read from a private SslStream field by
    /// reflection and <c>SSL_ctrl</c> is called in the libssl the runtime loaded. It depends on runtime internals;
    /// where they differ (another .NET version, platform or libssl build) the setting does nothing. The field is kept
    /// for trimming and Native AOT.
    /// </remarks>
    public bool ReleaseIdleBuffers { get; set; }

    /// <summary>True when a certificate source is configured, in code or as files.</summary>
    public bool IsConfigured => CertificateSelector is not null || !string.IsNullOrEmpty(CertificatePath) || SniCertificates.Count > 0;
}
