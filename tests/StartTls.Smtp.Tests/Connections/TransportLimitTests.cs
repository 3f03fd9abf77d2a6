using System.Net;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Connections;

/// <summary>
/// Connections that arrive through <see cref="SmtpServer.ServeAsync(SmtpConnectionContext, CancellationToken)"/> (any
/// transport) get the same limits, metrics and endpoint policy as the server's own sockets.
/// </summary>
public sealed class TransportLimitTests : IDisposable
{
    private readonly TestMeters _meters = new();

    public void Dispose() => _meters.Dispose();

    [Fact]
    public async Task The_per_address_and_total_limits_apply_to_served_connections()
    {
        using var accepted = _meters.Collect<long>("smtp.server.connections.accepted");
        using var refused = _meters.Collect<long>("smtp.server.connections.refused");
        await using var server = new SmtpServer(new SmtpServerOptions { MaxConnections = 2, MaxConnectionsPerIp = 1, ServerName = "mx.test" },
            new InMemoryMessageStore(), meterFactory: _meters.Factory);
        var one = new IPEndPoint(IPAddress.Parse("192.0.2.1"), 1000);
        var two = new IPEndPoint(IPAddress.Parse("192.0.2.2"), 1000);
        var three = new IPEndPoint(IPAddress.Parse("192.0.2.3"), 1000);
        var endpoint = new SmtpEndpointOptions { Name = "kestrel-25" };

        await using var first = PipeConnection.Start(server, endpoint, one);
        (await first.ReadReplyAsync()).Should().StartWith("220 ");
        await using (var sameAddress = PipeConnection.Start(server, endpoint, one))
        {
            (await sameAddress.ReadToEndAsync()).Should().Be("421 4.7.0 Too many connections from your address, try again later\r\n");
        }

        await using var second = PipeConnection.Start(server, endpoint, two);
        (await second.ReadReplyAsync()).Should().StartWith("220 ");
        await using (var overTotal = PipeConnection.Start(server, endpoint, three))
        {
            (await overTotal.ReadToEndAsync()).Should().Be("421 4.7.0 Too many connections, try again later\r\n");
        }

        accepted.GetMeasurementSnapshot().Should().HaveCount(2).And.OnlyContain(m => m.Tags["smtp.endpoint"] as string == "kestrel-25");
        refused.GetMeasurementSnapshot().Select(m => m.Tags["reason"]).Should().BeEquivalentTo(["max_connections_per_ip", "max_connections"]);
    }

    [Fact]
    public async Task An_implicit_tls_endpoint_refuses_over_the_limit_without_a_plaintext_byte()
    {
        var options = new SmtpServerOptions { MaxConnections = 1, ServerName = "mx.test" };
        TlsTestKit.WithCertificate()(options);
        await using var server = new SmtpServer(options, new InMemoryMessageStore());
        var endpoint = new SmtpEndpointOptions { ImplicitTls = true };
        await using var first = PipeConnection.Start(server, endpoint);
        await using var second = PipeConnection.Start(server, endpoint, new IPEndPoint(IPAddress.Loopback, 40001));

        (await second.ReadToEndAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task A_require_tls_endpoint_given_by_the_transport_refuses_mail_before_starttls()
    {
        var options = new SmtpServerOptions { ServerName = "mx.test" };
        TlsTestKit.WithCertificate()(options);
        await using var server = new SmtpServer(options, new InMemoryMessageStore());
        await using var client = PipeConnection.Start(server, new SmtpEndpointOptions { RequireTls = true });
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO c.test");

        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("530 5.7.0");
    }
}
