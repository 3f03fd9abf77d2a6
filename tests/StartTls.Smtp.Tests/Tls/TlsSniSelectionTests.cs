using System.Net;
using System.Net.Security;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// Certificate selection by SNI in code (SniCertificateSelector, a custom IServerCertificateSelector): what a client
/// with no matching certificate gets, and what the selector is given.
/// </summary>
public sealed class TlsSniSelectionTests
{
    [Fact]
    public async Task Without_a_default_certificate_an_unknown_or_missing_name_is_refused_and_a_known_one_works()
    {
        var mail = TestCertificates.IssueServer("mail.example.test");
        await using var server = await TestServer.StartAsync(o =>
            o.Tls.CertificateSelector = new SniCertificateSelector().Add("mail.example.test", new FixedCertificate(mail)));

        foreach (var sni in new[] { "", "unknown.test" })
        {
            await using var raw = await server.ConnectAsync();
            (await raw.EhloAsync()).Should().Contain("STARTTLS");
            (await raw.CommandAsync("STARTTLS")).Should().StartWith("220");
            var handshake = () => TlsSmtpClient.HandshakeAsync(raw.Socket, sni, expectedName: "mail.example.test");
            await handshake.Should().ThrowAsync<Exception>("no certificate for '" + sni + "'");
            var after = await Wire.ReceiveUntilClosedAsync(raw.Socket, TimeSpan.FromSeconds(5));
            after.Closed.Should().BeTrue(after.ToString());
            after.HasNoPlaintext.Should().BeTrue(after.ToString());
        }

        var (okRaw, okTls) = await server.ConnectWithStartTlsAsync("mail.example.test");
        await using (okRaw)
        await using (okTls)
        {
            okTls.ServerCertificate.Thumbprint.Should().Be(mail.Thumbprint);
            (await okTls.EhloAsync()).Should().StartWith("250-");
        }
    }

    [Fact]
    public async Task A_custom_selector_gets_the_name_and_the_session_and_may_refuse()
    {
        var selector = new RecordingSelector(TlsTestKit.MxCertificate);
        await using var server = await TestServer.StartAsync(o => o.Tls.CertificateSelector = selector);

        var (raw, tls) = await server.ConnectWithStartTlsAsync("mx.test");
        await using (raw)
        await using (tls)
        {
            (await tls.EhloAsync()).Should().StartWith("250-");
        }

        await using (var refused = await server.ConnectAsync())
        {
            await refused.EhloAsync();
            (await refused.CommandAsync("STARTTLS")).Should().StartWith("220");
            var handshake = () => TlsSmtpClient.HandshakeAsync(refused.Socket, "refuse.test", expectedName: "mx.test");
            await handshake.Should().ThrowAsync<Exception>();
        }

        selector.Calls.Select(c => c.Name).Should().Equal("mx.test", "refuse.test");
        selector.Calls.Should().AllSatisfy(c => c.Local.Should().Be(server.EndPoint));
    }

    private sealed class RecordingSelector(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) : IServerCertificateSelector
    {
        private readonly SslStreamCertificateContext _context = SslStreamCertificateContext.Create(certificate, null, offline: true);

        public List<(string? Name, EndPoint? Local)> Calls { get; } = [];

        public async ValueTask<SslStreamCertificateContext?> SelectCertificateAsync(string? serverName, SmtpSession session, CancellationToken cancellationToken)
        {
            await Task.Yield(); // selection is asynchronous: a lookup may go to a store or a vault
            lock (Calls)
            {
                Calls.Add((serverName, session.LocalEndPoint));
            }

            return serverName == "refuse.test" ? null : _context;
        }
    }
}
