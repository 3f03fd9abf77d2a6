namespace StartTls.Smtp.Tls;

/// <summary>Whether the server asks TLS clients for a certificate.</summary>
public enum ClientCertificateMode
{
    /// <summary>Do not ask. The default.</summary>
    NoCertificate = 0,

    /// <summary>Ask, accept a connection without one, and expose any certificate (and its chain errors) on <see cref="SmtpTlsInfo"/> for the application to judge.</summary>
    AllowCertificate,

    /// <summary>Ask and refuse the handshake without one. Its chain is still the application's to judge.</summary>
    RequireCertificate,
}
