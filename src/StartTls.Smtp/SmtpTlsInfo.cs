using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace StartTls.Smtp;

/// <summary>The facts of a connection's TLS layer, once the handshake has completed.</summary>
public sealed class SmtpTlsInfo
{
    internal SmtpTlsInfo(SslProtocols protocol, TlsCipherSuite cipherSuite, string? serverName, X509Certificate2? clientCertificate,
        SslPolicyErrors clientCertificateErrors, bool isImplicit)
    {
        Protocol = protocol;
        CipherSuite = cipherSuite;
        ServerName = serverName;
        ClientCertificate = clientCertificate;
        ClientCertificateErrors = clientCertificateErrors;
        IsImplicit = isImplicit;
    }

    /// <summary>The negotiated protocol version, such as TLS 1.3.</summary>
    public SslProtocols Protocol { get; }

    /// <summary>The negotiated cipher suite.</summary>
    public TlsCipherSuite CipherSuite { get; }

    /// <summary>The host name the client asked for with SNI, or <see langword="null"/>.</summary>
    public string? ServerName { get; }

    /// <summary>The client's certificate, when one was asked for and given.</summary>
    public X509Certificate2? ClientCertificate { get; }

    /// <summary>What was wrong with the client certificate's chain, for the application to judge.</summary>
    public SslPolicyErrors ClientCertificateErrors { get; }

    /// <summary>True for implicit TLS (RFC 8314, port 465 style); false after STARTTLS.</summary>
    public bool IsImplicit { get; }

    /// <summary>A short description for Received headers and logs, such as <c>TLS1.3 TLS_AES_256_GCM_SHA384</c>.</summary>
    public override string ToString() => $"{ProtocolName(Protocol)} {CipherSuite}";

    internal static string ProtocolName(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLS1.3",
        SslProtocols.Tls12 => "TLS1.2",
        _ => protocol.ToString(),
    };
}
