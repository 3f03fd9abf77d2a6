using System.Net.Security;

namespace StartTls.Smtp.Tls;

/// <summary>
/// Chooses the certificate for each TLS handshake, asynchronously, from the host name the client asked for (SNI)
/// and the session's facts. Return <see langword="null"/> to refuse the handshake (the connection is closed).
/// </summary>
/// <remarks>
/// Return an <see cref="SslStreamCertificateContext"/> built once per certificate
/// (<see cref="SslStreamCertificateContext.Create(System.Security.Cryptography.X509Certificates.X509Certificate2, System.Security.Cryptography.X509Certificates.X509Certificate2Collection?, bool, SslCertificateTrust?)"/>),
/// not one per handshake: building the chain is the expensive part. Built in: <see cref="SniCertificateSelector"/>.
/// </remarks>
public interface IServerCertificateSelector
{
    /// <summary>Chooses the certificate for one handshake.</summary>
    /// <param name="serverName">The SNI host name from the ClientHello, or <see langword="null"/> when the client sent none (or a malformed one).</param>
    /// <param name="session">The connection's facts (endpoints).</param>
    /// <param name="cancellationToken">Cancelled when the handshake times out.</param>
    /// <returns>The certificate context, or <see langword="null"/> to refuse.</returns>
    ValueTask<SslStreamCertificateContext?> SelectCertificateAsync(string? serverName, SmtpSession session, CancellationToken cancellationToken);
}
