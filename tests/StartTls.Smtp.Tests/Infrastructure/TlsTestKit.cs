using System.Security.Cryptography.X509Certificates;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>Server configurations and certificates shared by the TLS tests.</summary>
public static class TlsTestKit
{
    private static readonly Lazy<X509Certificate2> LazyMx = new(() => TestCertificates.IssueServer("mx.test"));

    /// <summary>One certificate for mx.test, issued once per test run.</summary>
    public static X509Certificate2 MxCertificate => LazyMx.Value;

    /// <summary>A fixed mx.test certificate, plus whatever else the test configures.</summary>
    public static Action<SmtpServerOptions> WithCertificate(Action<SmtpServerOptions>? more = null) => o =>
    {
        o.Tls.CertificateSelector = new SniCertificateSelector(new FixedCertificate(MxCertificate));
        more?.Invoke(o);
    };

    /// <summary>The server's first endpoint turned into implicit TLS.</summary>
    public static Action<SmtpServerOptions> Implicit(Action<SmtpServerOptions>? more = null) => WithCertificate(o =>
    {
        o.Endpoints[0].ImplicitTls = true;
        more?.Invoke(o);
    });

    /// <summary>Connects, reads the greeting, EHLO, STARTTLS (expects 220) and handshakes.</summary>
    public static async Task<(RawSmtpClient Raw, TlsSmtpClient Tls)> ConnectWithStartTlsAsync(this TestServer server, string serverName = "mx.test", string ehlo = "pre.test")
    {
        var raw = await server.ConnectAsync();
        (await raw.EhloAsync(ehlo)).Should().Contain("STARTTLS");
        (await raw.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket, serverName);
        return (raw, tls);
    }

    /// <summary>Connects to an implicit-TLS endpoint, handshakes and reads the greeting inside TLS.</summary>
    public static async Task<(RawSmtpClient Raw, TlsSmtpClient Tls)> ConnectImplicitAsync(this TestServer server, int endpointIndex = 0, string serverName = "mx.test")
    {
        var raw = await RawSmtpClient.ConnectAsync(server.Server.ListeningEndPoints[endpointIndex]);
        var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket, serverName);
        (await tls.ReadReplyAsync()).Should().StartWith("220 mx.test");
        return (raw, tls);
    }
}
