using System.Net;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Connections;

/// <summary>
/// What other hosts (Kestrel, health checks) need from the server: the state of its own endpoints, a server that opens
/// no socket of its own, and one stop shared by every caller of <see cref="SmtpServer.StopAsync"/>.
/// </summary>
public sealed class EndpointStateAndSharedStopTests
{
    [Fact]
    public async Task Endpoint_states_follow_the_listeners_from_configured_to_listening_to_stopped()
    {
        var options = new SmtpServerOptions();
        options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0", Name = "mx" });
        options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" });
        await using var server = new SmtpServer(options, new InMemoryMessageStore());

        server.GetEndpointStates().Select(static s => (s.Name, s.Address, s.EndPoint, s.IsListening))
            .Should().Equal(("mx", "127.0.0.1:0", (IPEndPoint?)null, false), ("127.0.0.1:0", "127.0.0.1:0", null, false));

        await server.StartAsync();
        var listening = server.GetEndpointStates();
        listening.Select(static s => s.EndPoint).Should().Equal(server.ListeningEndPoints);
        listening.Should().OnlyContain(static s => s.IsListening && s.EndPoint!.Port != 0);
        listening.Select(static s => s.Name).Should().Equal("mx", "127.0.0.1:0");

        await server.StopAsync();
        server.GetEndpointStates().Should().HaveCount(2).And.OnlyContain(static s => !s.IsListening);
    }

    [Fact]
    public async Task Without_own_sockets_the_server_binds_nothing_and_still_serves_ServeAsync()
    {
        var store = new InMemoryMessageStore();
        await using var server = new SmtpServer(new SmtpServerOptions { ServerName = "mx.test", ListenOnOwnSockets = false }, store);

        await server.StartAsync();

        server.ListeningEndPoints.Should().BeEmpty();
        server.GetEndpointStates().Should().BeEmpty();
        await using var client = PipeConnection.Start(server);
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
    }

    [Fact]
    public void Without_own_sockets_configured_endpoints_are_a_validation_error()
    {
        var options = new SmtpServerOptions { ListenOnOwnSockets = false };
        options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" });

        var create = () => new SmtpServer(options, new InMemoryMessageStore());

        create.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("ListenOnOwnSockets");
    }

    [Fact]
    public async Task A_second_StopAsync_waits_for_the_first_and_its_token_cuts_the_grace_short()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryMessageStore();
        var server = new SmtpServer(new SmtpServerOptions { ServerName = "mx.test", ShutdownTimeout = TimeSpan.FromMinutes(5) }, store, timeProvider: time);
        await using var client = PipeConnection.Start(server);
        await client.ReadReplyAsync();
        await client.StartDataAsync();
        await client.SendAsync("Subject: slow\r\n\r\nfirst half\r\n");

        var first = server.StopAsync(); // e.g. from ApplicationStopping, with no token
        using var hostTimeout = new CancellationTokenSource();
        var second = server.StopAsync(hostTimeout.Token); // e.g. the host's stop, with its shutdown timeout

        second.IsCompleted.Should().BeFalse("the message in flight may still finish, and the second caller waits for it");
        await hostTimeout.CancelAsync();

        await second.WaitAsync(TimeSpan.FromSeconds(10)); // hang guards: the fake clock never reached ShutdownTimeout
        await first.WaitAsync(TimeSpan.FromSeconds(10));
        (await client.ReadToEndAsync()).Should().Be("421 4.3.2 Service shutting down, closing connection\r\n");
        store.Count.Should().Be(0);
        await server.DisposeAsync();
    }
}
