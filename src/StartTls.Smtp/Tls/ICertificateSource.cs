using System.Net.Security;

namespace StartTls.Smtp.Tls;

/// <summary>Supplies the current certificate of one name; a source may change it over time (renewals).</summary>
public interface ICertificateSource
{
    /// <summary>The certificate to use for a handshake starting now.</summary>
    /// <returns>The certificate context, with its chain built once.</returns>
    SslStreamCertificateContext GetCertificate();
}
