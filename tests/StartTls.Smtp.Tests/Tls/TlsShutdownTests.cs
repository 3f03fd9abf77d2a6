using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// Graceful shutdown and TLS: a session inside TLS gets its 421 4.3.2 inside TLS; a connection waiting for a
/// handshake is idle, so it is closed at once (nothing can be said before TLS) instead of holding StopAsync for
/// the handshake timeout.
/// </summary>
public sealed class TlsShutdownTests
{
    private static Task<TestServer> StartAsync() => TestServer.StartAsync(TlsTestKit.WithCertificate(o =>
    {
        // Far longer than the stop is allowed to take below: a stop held by a stalled handshake cannot pass.
        o.Tls.HandshakeTimeout = TimeSpan.FromMinutes(5);
        o.ShutdownTimeout = TimeSpan.FromMinutes(5);
        o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0", ImplicitTls = true });
    }));

    [Fact]
    public async Task Stop_closes_connections_stalled_in_the_handshake_at_once_and_says_421_inside_tls()
    {
        var server = await StartAsync();
        try
        {
            // One stalled after the 220, one half-way through a ClientHello, one silent on the implicit port.
            await using var afterStartTls = await server.ConnectAsync();
            await afterStartTls.EhloAsync();
            (await afterStartTls.CommandAsync("STARTTLS")).Should().StartWith("220");
            await using var partial = await server.ConnectAsync();
            await partial.EhloAsync();
            (await partial.CommandAsync("STARTTLS")).Should().StartWith("220");
            await partial.SendAsync((await ClientHello.ModernAsync())[..20]);
            await using var implicitSilent = await RawSmtpClient.ConnectAsync(server.Server.ListeningEndPoints[1]);

            // And one idle inside TLS.
            var (raw, tls) = await server.ConnectWithStartTlsAsync();
            await using var _ = raw;
            await using var __ = tls;
            await tls.EhloAsync();

            // Stalled handshakes do not hold a graceful stop for the handshake (or shutdown) timeout of five minutes.
            await server.Server.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));

            (await tls.ReadReplyAsync()).Should().StartWith("421 4.3.2");
            foreach (var stalled in new[] { afterStartTls, partial, implicitSilent })
            {
                var after = await Wire.ReceiveUntilClosedAsync(stalled.Socket, TimeSpan.FromSeconds(5));
                after.Closed.Should().BeTrue(after.ToString());
                after.Data.Should().BeEmpty("no plaintext 421 where only TLS may follow: " + after);
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
    }
}
