namespace StartTls.Smtp.Tls;

/// <summary>One certificate served for an SNI host name.</summary>
public sealed class SniCertificateOptions
{
    /// <summary>The host name (<c>mail.example.com</c>) or wildcard (<c>*.example.com</c>).</summary>
    public string ServerName { get; set; } = "";

    /// <summary>The PEM chain (leaf first) or PKCS#12 file.</summary>
    public string CertificatePath { get; set; } = "";

    /// <summary>The PEM private key, when separate.</summary>
    public string? KeyPath { get; set; }

    /// <summary>The PKCS#12 or encrypted-key password.</summary>
    public string? CertificatePassword { get; set; }
}
