using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using StartTls.Smtp.AspNetCore.Tests.Infrastructure;
using StartTls.Smtp.Hosting;

namespace StartTls.Smtp.AspNetCore.Tests;

/// <summary>services.AddHealthChecks().AddSmtpServer(): every SMTP endpoint, own sockets and Kestrel ones, listens.</summary>
public sealed class SmtpHealthCheckTests
{
    [Fact]
    public async Task Healthy_when_own_and_Kestrel_endpoints_listen_then_Unhealthy_with_the_endpoint_that_stopped()
    {
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer(o => o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0", Name = "mx" })).UseInMemoryStore();
            b.Services.AddHealthChecks().AddSmtpServer();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp(o => o.Name = "submission")));
        });
        var health = app.App.Services.GetRequiredService<HealthCheckService>();
        var own = $"mx (socket {app.Server.ListeningEndPoints.Single()})";
        var kestrel = $"submission (kestrel {app.KestrelEndPoints.Single()})";

        var report = await health.CheckHealthAsync();

        var entry = report.Entries.Should().ContainKey("smtp").WhoseValue;
        entry.Status.Should().Be(HealthStatus.Healthy);
        entry.Data.Should().BeEquivalentTo(new Dictionary<string, object> { [own] = "listening", [kestrel] = "listening" });

        // The server's own sockets close on its stop; the Kestrel endpoint belongs to the application, still running.
        await app.Server.StopAsync();
        report = await health.CheckHealthAsync();

        entry = report.Entries["smtp"];
        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Description.Should().Contain(own);
        entry.Data.Should().BeEquivalentTo(new Dictionary<string, object> { [own] = "not listening", [kestrel] = "listening" });
    }

    [Fact]
    public async Task Kestrel_endpoint_is_not_listening_once_the_application_stops()
    {
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer().UseInMemoryStore().UseKestrelOnly();
            b.Services.AddHealthChecks().AddSmtpServer("mail", HealthStatus.Degraded, ["ready"]);
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp()));
        });
        var health = app.App.Services.GetRequiredService<HealthCheckService>();
        (await health.CheckHealthAsync(r => r.Tags.Contains("ready"))).Entries["mail"].Status.Should().Be(HealthStatus.Healthy);

        app.App.Lifetime.StopApplication();
        var entry = (await health.CheckHealthAsync()).Entries["mail"];

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Data.Should().ContainSingle().Which.Value.Should().Be("not listening");
    }

    [Fact]
    public async Task Unhealthy_when_there_is_no_SMTP_endpoint_at_all()
    {
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer().UseInMemoryStore().UseKestrelOnly();
            b.Services.AddHealthChecks().AddSmtpServer();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0)); // HTTP only
        });

        var entry = (await app.App.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync()).Entries["smtp"];

        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Description.Should().StartWith("No SMTP endpoint");
    }

    [Fact]
    public async Task Own_endpoints_are_reported_not_listening_before_the_server_starts()
    {
        var options = new SmtpServerOptions();
        options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0", Name = "mx" });
        await using var server = new SmtpServer(options, new Storage.InMemoryMessageStore());

        var check = new SmtpServerHealthCheck(server, new KestrelSmtpEndpoints());
        var result = await check.CheckHealthAsync(new HealthCheckContext
        {
            Registration = new HealthCheckRegistration("smtp", check, HealthStatus.Unhealthy, null),
        });

        result.Status.Should().Be(HealthStatus.Unhealthy);
        result.Data.Should().BeEquivalentTo(new Dictionary<string, object> { ["mx (socket 127.0.0.1:0)"] = "not listening" });

        await server.StartAsync();
        (await check.CheckHealthAsync(new HealthCheckContext { Registration = new HealthCheckRegistration("smtp", check, HealthStatus.Unhealthy, null) }))
            .Status.Should().Be(HealthStatus.Healthy);
    }
}
