using System.Security.Authentication;

namespace StartTls.Smtp.Tls;

/// <summary>The resolved TLS configuration a server's connections share; <see langword="null"/> on a server without certificates.</summary>
internal sealed class TlsSettings
{
    private TlsSettings(IServerCertificateSelector selector, SmtpTlsOptions options, TimeProvider time)
    {
        Selector = selector;
        Time = time;
        EnabledProtocols = options.EnabledProtocols;
        HandshakeTimeout = options.HandshakeTimeout;
        ClientCertificateMode = options.ClientCertificateMode;
        ReleaseIdleBuffers = options.ReleaseIdleBuffers;
    }

    public IServerCertificateSelector Selector { get; }

    /// <summary>The server's clock: the handshake timeout runs on it.</summary>
    public TimeProvider Time { get; }

    public SslProtocols EnabledProtocols { get; }

    public TimeSpan HandshakeTimeout { get; }

    public ClientCertificateMode ClientCertificateMode { get; }

    /// <summary><see cref="SmtpTlsOptions.ReleaseIdleBuffers"/>.</summary>
    public bool ReleaseIdleBuffers { get; }

    /// <summary>Builds the settings, loading certificate files now so that a bad file fails the start, not a handshake.</summary>
    /// <param name="options">The TLS options.</param>
    /// <param name="timeProvider">The clock of the handshake timeout and of the certificate files' checks for changes; <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public static TlsSettings? Create(SmtpTlsOptions options, TimeProvider? timeProvider = null)
    {
        if (!options.IsConfigured)
        {
            return null;
        }

        var selector = options.CertificateSelector;
        if (selector is null)
        {
            var sni = new SniCertificateSelector(string.IsNullOrEmpty(options.CertificatePath)
                ? null
                : new CertificateFile(options.CertificatePath, options.KeyPath, options.CertificatePassword, timeProvider));
            foreach (var entry in options.SniCertificates)
            {
                sni.Add(entry.ServerName, new CertificateFile(entry.CertificatePath, entry.KeyPath, entry.CertificatePassword, timeProvider));
            }

            selector = sni;
        }

        return new TlsSettings(selector, options, timeProvider ?? TimeProvider.System);
    }
}
