using System.Net;
using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>Graceful shutdown (421 4.3.2; a message in flight may finish) and an IPv6 loopback listener.</summary>
public sealed class ShutdownAndListenerTranscriptTests
{
    [Fact]
    public async Task An_idle_client_gets_421_4_3_2_on_shutdown()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        var stop = server.Server.StopAsync();
        (await client.ReadReplyAsync(TimeSpan.FromSeconds(3))).Should().Be("421 4.3.2 Service shutting down, closing connection");
        (await client.IsClosedAsync()).Should().BeTrue();
        await stop.WaitAsync(TimeSpan.FromSeconds(3));
        server.Server.ConnectionCount.Should().Be(0);
    }

    [Fact]
    public async Task A_client_that_has_just_connected_gets_421_4_3_2_on_shutdown()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await server.Server.StopAsync().WaitAsync(TimeSpan.FromSeconds(3));
        (await client.ReadToEndAsync(TimeSpan.FromSeconds(3))).Should().Be("421 4.3.2 Service shutting down, closing connection\r\n");
    }

    [Fact]
    public async Task A_client_in_the_middle_of_data_can_finish_its_message()
    {
        // On a fake clock that never moves, the shutdown timeout cannot pass: the stop ends only when the session does.
        var logs = new LogCapture();
        await using var server = await TestServer.StartAsync(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10), loggerFactory: logs, timeProvider: new FakeTimeProvider());
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("Subject: in flight\r\n\r\nfirst half\r\n");
        var stop = server.Server.StopAsync();
        await Eventually.WaitUntilAsync(() => logs.Events.Any(e => e.EventId.Name == "Stopping"), "the server is stopping");
        stop.IsCompleted.Should().BeFalse("the server waits for the message in flight");
        await client.SendAsync("second half\r\n.\r\n");
        (await client.ReadCodeAsync(TimeSpan.FromSeconds(3))).Should().Be("250 2.0.0");
        var rest = await client.ReadToEndAsync(TimeSpan.FromSeconds(3));
        rest.Should().BeOneOf("", "421 4.3.2 Service shutting down, closing connection\r\n");
        await stop.WaitAsync(TimeSpan.FromSeconds(3));
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("Subject: in flight\r\n\r\nfirst half\r\nsecond half\r\n");
    }

    [Fact]
    public async Task A_message_not_finished_within_the_shutdown_timeout_is_aborted_and_not_stored()
    {
        await using var server = await TestServer.StartAsync(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(300));
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("Subject: too slow\r\n\r\n");
        await server.Server.StopAsync().WaitAsync(TimeSpan.FromSeconds(8));
        (await client.ReadToEndAsync(TimeSpan.FromSeconds(3))).Should().Be("421 4.3.2 Service shutting down, closing connection\r\n",
            "the aborted message is never acknowledged; the session ends with 421 and a close");
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task No_new_connections_after_shutdown()
    {
        await using var server = await TestServer.StartAsync();
        var endPoint = server.EndPoint;
        await server.Server.StopAsync();
        var connect = async () =>
        {
            await using var client = await RawSmtpClient.ConnectAsync(endPoint);
            (await client.ReadLineAsync(TimeSpan.FromSeconds(2))).Should().BeNull();
        };
        await connect.Should().ThrowAsync<System.Net.Sockets.SocketException>();
    }

    [SkippableFact]
    public async Task An_ipv6_loopback_listener_works()
    {
        Skip.IfNot(System.Net.Sockets.Socket.OSSupportsIPv6, "this machine has no IPv6, so there is no ::1 to listen on");

        var handler = new SessionRecorder();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Endpoints.Clear();
            o.Endpoints.Add(new SmtpEndpointOptions { Address = "[::1]:0" });
        }, sessionHandler: handler);
        server.EndPoint.Address.Should().Be(IPAddress.IPv6Loopback);
        server.EndPoint.Port.Should().BeGreaterThan(0);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        (await client.CommandCodeAsync("over ipv6\r\n.")).Should().Be("250 2.0.0");
        (await client.CommandCodeAsync("QUIT")).Should().Be("221 2.0.0");
        var message = server.Messages.Messages.Should().ContainSingle().Subject;
        message.GetContentAsString().Should().Be("over ipv6\r\n");
        message.RemoteEndPoint.Should().BeOfType<IPEndPoint>().Which.Address.Should().Be(IPAddress.IPv6Loopback);
        (await handler.FirstClosed.WaitAsync(TimeSpan.FromSeconds(3))).LocalEndPoint.Should().BeOfType<IPEndPoint>().Which.Address.Should().Be(IPAddress.IPv6Loopback);
    }

    [SkippableFact]
    public async Task Ipv4_and_ipv6_listeners_side_by_side()
    {
        Skip.IfNot(System.Net.Sockets.Socket.OSSupportsIPv6, "this machine has no IPv6, so there is no ::1 to listen on");

        await using var server = await TestServer.StartAsync(o => o.Endpoints.Add(new SmtpEndpointOptions { Address = "[::1]:0" }));
        server.Server.ListeningEndPoints.Should().HaveCount(2);
        foreach (var endPoint in server.Server.ListeningEndPoints)
        {
            await using var client = await RawSmtpClient.ConnectAsync(endPoint);
            (await client.ReadReplyAsync()).Should().StartWith("220 ");
            (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
        }
    }
}
