using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.AspNetCore.Tests.Infrastructure;

/// <summary>A WebApplication in the test process whose Kestrel serves SMTP; started by <see cref="StartAsync"/>.</summary>
public sealed class KestrelSmtpApp : IAsyncDisposable
{
    /// <summary>An empty content root: no appsettings.json (the sample's is copied next to the tests) configures the app.</summary>
    private static readonly Lazy<string> EmptyContentRoot = new(() => Directory.CreateTempSubdirectory("kestrel-smtp-tests.").FullName);

    private KestrelSmtpApp(WebApplication app) => App = app;

    public WebApplication App { get; }

    public SmtpServer Server => App.Services.GetRequiredService<SmtpServer>();

    public InMemoryMessageStore Store => App.Services.GetRequiredService<InMemoryMessageStore>();

    /// <summary>Kestrel's bound addresses (the real ports), e.g. <c>127.0.0.1:41234</c>.</summary>
    public IReadOnlyList<IPEndPoint> KestrelEndPoints => [.. App.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
        .Select(static a => IPEndPoint.Parse(a[(a.IndexOf("://", StringComparison.Ordinal) + 3)..].Replace("localhost", "127.0.0.1", StringComparison.Ordinal)))];

    /// <summary>
    /// Builds the app with an in-memory store, lets <paramref name="configure"/> add AddSmtpServer options, Kestrel
    /// endpoints and services, and starts it.
    /// </summary>
    public static async Task<KestrelSmtpApp> StartAsync(Action<WebApplicationBuilder> configure, Action<WebApplication>? configureApp = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Test", ContentRootPath = EmptyContentRoot.Value });
        // As in Development (the "Test" environment would turn these off): a scoped service taken from the root
        // provider, or one that cannot be built, fails the test.
        builder.Host.UseDefaultServiceProvider(o =>
        {
            o.ValidateScopes = true;
            o.ValidateOnBuild = true;
        });
        builder.Logging.ClearProviders();
        configure(builder);
        var app = builder.Build();
        configureApp?.Invoke(app);
        var started = new KestrelSmtpApp(app);
        await app.StartAsync();
        return started;
    }

    public static IPEndPoint Loopback0 => new(IPAddress.Loopback, 0);

    /// <summary>A port that was free a moment ago (for ListenLocalhost, which cannot bind port 0).</summary>
    public static int FreePort()
    {
        using var probe = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await App.StopAsync(stop.Token);
        await App.DisposeAsync();
    }
}
