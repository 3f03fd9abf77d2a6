using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// Client certificates (SmtpTlsOptions.ClientCertificateMode): asked for only when configured, exposed on
/// SmtpSession.Tls with their chain errors for the application to judge, and required when so configured.
/// </summary>
public sealed class TlsClientCertificateTests
{
    private static readonly Lazy<X509Certificate2> LazyClient = new(() => IssueClient("client.test"));

    private static X509Certificate2 ClientCertificate => LazyClient.Value;

    private static X509Certificate2 IssueClient(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=" + name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        var serial = new byte[8];
        RandomNumberGenerator.Fill(serial);
        using var issued = request.Create(TestCertificates.Ca, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1), serial);
        return issued.CopyWithPrivateKey(key);
    }

    private static async Task<(TestServer Server, SessionRecorder Recorder)> StartAsync(ClientCertificateMode mode)
    {
        var recorder = new SessionRecorder();
        var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(o => o.Tls.ClientCertificateMode = mode), sessionHandler: recorder);
        return (server, recorder);
    }

    /// <summary>STARTTLS, handshake with the given client certificate, EHLO and QUIT; returns the session's TLS facts.</summary>
    private static async Task<SmtpTlsInfo> RoundTripAsync(TestServer server, SessionRecorder recorder, X509Certificate2? certificate)
    {
        await using (var raw = await server.ConnectAsync())
        {
            await raw.EhloAsync();
            (await raw.CommandAsync("STARTTLS")).Should().StartWith("220");
            await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket, clientCertificate: certificate);
            (await tls.EhloAsync()).Should().StartWith("250-");
            (await tls.CommandAsync("QUIT")).Should().StartWith("221");
        }

        await recorder.WaitForCloseAsync();
        return recorder.Closed.Last().Tls!;
    }

    [Fact]
    public async Task By_default_no_certificate_is_asked_for_even_if_the_client_has_one()
    {
        var (server, recorder) = await StartAsync(ClientCertificateMode.NoCertificate);
        await using var _ = server;
        var info = await RoundTripAsync(server, recorder, ClientCertificate);
        info.ClientCertificate.Should().BeNull();
    }

    [Fact]
    public async Task A_server_that_never_asks_accepts_a_resumed_session_that_carries_a_client_certificate()
    {
        // .NET shares server SSL contexts (and TLS 1.3 ticket keys) per certificate within a process, so a client
        // can resume, on a server that never asks for certificates, a session made where one was given. That server
        // must neither validate the certificate (and fail the handshake) nor report it.
        var (asking, askingRecorder) = await StartAsync(ClientCertificateMode.AllowCertificate);
        await using (asking)
        {
            (await RoundTripAsync(asking, askingRecorder, ClientCertificate)).ClientCertificate.Should().NotBeNull();
        }

        var (server, recorder) = await StartAsync(ClientCertificateMode.NoCertificate);
        await using var _ = server;
        for (var i = 0; i < 2; i++)
        {
            var info = await RoundTripAsync(server, recorder, ClientCertificate);
            info.ClientCertificate.Should().BeNull();
            info.ClientCertificateErrors.Should().Be(SslPolicyErrors.None);
        }
    }

    [Fact]
    public async Task Allow_exposes_the_certificate_and_its_chain_errors_to_the_application()
    {
        var (server, recorder) = await StartAsync(ClientCertificateMode.AllowCertificate);
        await using var _ = server;
        var info = await RoundTripAsync(server, recorder, ClientCertificate);
        info.ClientCertificate.Should().NotBeNull();
        info.ClientCertificate!.Thumbprint.Should().Be(ClientCertificate.Thumbprint);
        info.ClientCertificateErrors.Should().HaveFlag(SslPolicyErrors.RemoteCertificateChainErrors, "the test CA is not in the system store; judging it is the application's job");
    }

    [Fact]
    public async Task Allow_accepts_a_client_without_a_certificate()
    {
        var (server, recorder) = await StartAsync(ClientCertificateMode.AllowCertificate);
        await using var _ = server;
        var info = await RoundTripAsync(server, recorder, certificate: null);
        info.ClientCertificate.Should().BeNull();
    }

    [Fact]
    public async Task Require_accepts_a_client_with_a_certificate()
    {
        var (server, recorder) = await StartAsync(ClientCertificateMode.RequireCertificate);
        await using var _ = server;
        var info = await RoundTripAsync(server, recorder, ClientCertificate);
        info.ClientCertificate!.Thumbprint.Should().Be(ClientCertificate.Thumbprint);
    }

    [Fact]
    public async Task Require_refuses_a_client_without_a_certificate_and_never_answers_in_plaintext()
    {
        var (server, recorder) = await StartAsync(ClientCertificateMode.RequireCertificate);
        await using var _ = server;
        await using var raw = await server.ConnectAsync();
        await raw.EhloAsync();
        (await raw.CommandAsync("STARTTLS")).Should().StartWith("220");

        // TLS 1.2 fails inside the handshake; with TLS 1.3 the client finishes first and sees the alert on its first read.
        string? reply = null;
        try
        {
            await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket);
            await tls.SendAsync("EHLO c.test\r\n");
            reply = await tls.ReadLineAsync(TimeSpan.FromSeconds(5));
        }
        catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
        {
        }

        reply.Should().BeNull("no SMTP reply without the required certificate");
        await recorder.WaitForCloseAsync();
        recorder.Closed.Should().ContainSingle().Which.Tls.Should().BeNull("the handshake never completed");
    }
}
