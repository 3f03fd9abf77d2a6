// A before-queue relay gateway: mail is accepted only when the upstream accepted it, while the client waits.
// Flags: see GatewayOptions.Usage (`--help`).
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StartTls.Smtp.Gateway;
using StartTls.Smtp.Server;

var options = GatewayOptions.Parse(args, out var error);
if (options is null)
{
    if (error is null)
    {
        Console.Out.Write(GatewayOptions.Usage);
        return 0;
    }

    Console.Error.WriteLine($"error: {error}");
    Console.Error.WriteLine("Run with --help for the list of options.");
    return 2;
}

if (options.Certificate is null)
{
    // The gateway's own STARTTLS works out of the box with the sample server's development certificate.
    var (certificate, key) = DevelopmentCertificate.Ensure(Path.GetFullPath(".dev-certs"), out _);
    options = options with { Certificate = certificate, Key = key };
}

if (options.SpoolDirectory is not null)
{
    Directory.CreateDirectory(options.SpoolDirectory);
}

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss ";
    o.IncludeScopes = true;
}).SetMinimumLevel(LogLevel.Information);
builder.Services.AddGateway(options);

using var host = builder.Build();
try
{
    await host.StartAsync();
    var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("StartTls.Smtp.Gateway");
    GatewayLog.Started(logger, options.Listen, options.UpstreamHost, options.UpstreamPort, options.UpstreamTls);
    await host.WaitForShutdownAsync(); // Ctrl+C and SIGTERM stop it gracefully.
    return 0;
}
catch (Exception ex) when (ex is not OperationCanceledException)
{
    Console.Error.WriteLine($"error: the gateway could not start: {ex.Message}");
    return 1;
}
