using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.AspNetCore.Tests.Infrastructure;
using StartTls.Smtp.Diagnostics;
using StartTls.Smtp.Hosting;

namespace StartTls.Smtp.AspNetCore.Tests;

/// <summary>
/// A Kestrel connection goes through the same limits, timeouts and metrics as one accepted by the server's own socket
/// listener: both are served by SmtpServer.ServeAsync and share one connection limiter.
/// </summary>
public sealed class KestrelLimitsAndMetricsTests
{
    [Fact]
    public async Task MaxConnections_is_shared_with_the_own_listener_and_refuses_a_Kestrel_client_the_same_way()
    {
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer(o =>
            {
                o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0", Name = "own" });
                o.MaxConnections = 1;
            }).UseInMemoryStore();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp(o => o.Name = "kestrel")));
        });
        var own = app.Server.ListeningEndPoints.Single();
        var kestrel = app.KestrelEndPoints.Single();

        // The one connection allowed is on Kestrel: a client of the own listener is refused, and the other way round.
        string refusedOnOwn;
        await using (var first = await RawSmtpClient.ConnectAsync(kestrel))
        {
            (await first.ReadReplyAsync()).Should().StartWith("220 ");
            await using var second = await RawSmtpClient.ConnectAsync(own);
            refusedOnOwn = await second.ReadReplyAsync();
            (await second.IsClosedAsync()).Should().BeTrue();
            (await first.CommandAsync("QUIT")).Should().StartWith("221");
        }

        await Eventually.WaitUntilAsync(() => app.Server.ConnectionCount == 0, "the first connection ends");
        await using (var first = await RawSmtpClient.ConnectAsync(own))
        {
            (await first.ReadReplyAsync()).Should().StartWith("220 ");
            await using var second = await RawSmtpClient.ConnectAsync(kestrel);
            (await second.ReadReplyAsync()).Should().Be(refusedOnOwn);
            (await second.IsClosedAsync()).Should().BeTrue();
        }

        refusedOnOwn.Should().Be("421 4.7.0 Too many connections, try again later");
    }

    [Fact]
    public async Task MaxConnectionsPerIp_applies_to_Kestrel_connections()
    {
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer(o => o.MaxConnectionsPerIp = 1).UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp()));
        });

        await using var first = await RawSmtpClient.ConnectAsync(app.KestrelEndPoints.Single());
        (await first.ReadReplyAsync()).Should().StartWith("220 ");
        await using var second = await RawSmtpClient.ConnectAsync(app.KestrelEndPoints.Single());
        (await second.ReadReplyAsync()).Should().Be("421 4.7.0 Too many connections from your address, try again later");
        (await second.IsClosedAsync()).Should().BeTrue();
    }

    [Fact]
    public async Task Metrics_count_Kestrel_connections_with_the_endpoint_tag()
    {
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer(o => o.MaxConnections = 1).UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp(o => o.Name = "submission")));
        });
        var meters = app.App.Services.GetRequiredService<IMeterFactory>();
        using var accepted = new MetricCollector<long>(meters, SmtpTelemetry.MeterName, "smtp.server.connections.accepted");
        using var refused = new MetricCollector<long>(meters, SmtpTelemetry.MeterName, "smtp.server.connections.refused");
        using var messages = new MetricCollector<long>(meters, SmtpTelemetry.MeterName, "smtp.server.messages.accepted");

        await using (var first = await RawSmtpClient.ConnectAsync(app.KestrelEndPoints.Single()))
        {
            (await first.ReadReplyAsync()).Should().StartWith("220 ");
            await using var second = await RawSmtpClient.ConnectAsync(app.KestrelEndPoints.Single());
            (await second.ReadReplyAsync()).Should().StartWith("421 4.7.0");
        }

        await KestrelEndpointTests.SendOneMessageAsync(app.KestrelEndPoints.Single());

        accepted.GetMeasurementSnapshot().Should().HaveCount(2)
            .And.AllSatisfy(m => m.Tags.Should().Contain(SmtpTelemetry.EndpointTag, "submission"));
        var refusal = refused.GetMeasurementSnapshot().Should().ContainSingle().Subject;
        refusal.Tags.Should().Contain(SmtpTelemetry.EndpointTag, "submission").And.Contain("reason", "max_connections");
        messages.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags.Should().Contain(SmtpTelemetry.EndpointTag, "submission");
    }

    [Fact]
    public async Task The_default_endpoint_name_is_the_Kestrel_address()
    {
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer().UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp()));
        });
        using var accepted = new MetricCollector<long>(app.App.Services.GetRequiredService<IMeterFactory>(), SmtpTelemetry.MeterName, "smtp.server.connections.accepted");

        await KestrelEndpointTests.SendOneMessageAsync(app.KestrelEndPoints.Single());

        accepted.GetMeasurementSnapshot().Should().ContainSingle().Which.Tags
            .Should().Contain(SmtpTelemetry.EndpointTag, app.KestrelEndPoints.Single().ToString());
    }

    [Fact]
    public async Task Command_timeout_runs_on_the_registered_TimeProvider_for_Kestrel_connections()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSingleton<TimeProvider>(time);
            b.Services.AddSmtpServer(o => o.CommandTimeout = TimeSpan.FromMinutes(5)).UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp()));
        });

        await using var client = await RawSmtpClient.ConnectAsync(app.KestrelEndPoints.Single());
        (await client.ReadReplyAsync()).Should().StartWith("220 ");
        (await client.EhloAsync()).Should().StartWith("250");
        (await client.IsSilentAsync(TimeSpan.FromMilliseconds(200))).Should().BeTrue("no time has passed on the server's clock");

        // Advance in steps until the heartbeat has seen the deadline pass.
        var reply = Task.Run(() => client.ReadReplyAsync(TimeSpan.FromSeconds(30)));
        await Eventually.WaitUntilAsync(() =>
        {
            time.Advance(TimeSpan.FromMinutes(1));
            return reply.IsCompleted;
        }, "the command timeout fires");

        (await reply).Should().StartWith("421 4.4.2");
        (await client.IsClosedAsync()).Should().BeTrue();
    }
}
