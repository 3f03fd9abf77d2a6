// The runnable server: an SMTP server on 127.0.0.1:2525 that stores every message in ./mail.
// Flags: see CommandLineOptions.Usage (`--help`). Settings: appsettings.json section "Smtp", environment, then flags.
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StartTls.Smtp;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.Server;
using StartTls.Smtp.Storage;

var parsed = CommandLineOptions.Parse(args);
if (parsed.ShowHelp)
{
    Console.Out.Write(CommandLineOptions.Usage);
    return 0;
}

if (parsed.Options is not { } flags)
{
    Console.Error.WriteLine($"error: {parsed.Error}");
    Console.Error.WriteLine("Run with --help for the list of options.");
    return 2;
}

// Our own parser owns the command line, so it is not handed to the host; appsettings.json is read once, not watched.
var configuration = new ConfigurationManager();
configuration.AddInMemoryCollection([new("hostBuilder:reloadConfigOnChange", "false")]);
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Configuration = configuration });

builder.Logging.ClearProviders()
    .AddSimpleConsole(o =>
    {
        o.SingleLine = true;
        o.TimestampFormat = "HH:mm:ss ";

        // A session's events carry its id and the client's address in a logging scope, not in each message.
        o.IncludeScopes = true;
    })
    .SetMinimumLevel(LogLevel.Information);
if (flags.LogLevel is { } level)
{
    builder.Logging.AddFilter(category: null, level);
}

// Bound by the configuration binding source generator (see the csproj), so the Native AOT build binds as the JIT build does.
builder.Services.Configure<SmtpServerOptions>(builder.Configuration.GetSection("Smtp"));

// TLS out of the box: without --cert (and without a certificate in configuration), a development certificate.
string? developmentCertificate = null;
var developmentCertificateCreated = false;
if (flags.NeedsDevelopmentCertificate && string.IsNullOrEmpty(builder.Configuration["Smtp:Tls:CertificatePath"]))
{
    (developmentCertificate, var developmentKey) = DevelopmentCertificate.Ensure(Path.GetFullPath(".dev-certs"), out developmentCertificateCreated);
    builder.Services.PostConfigure<SmtpServerOptions>(o =>
    {
        o.Tls.CertificatePath ??= developmentCertificate;
        o.Tls.KeyPath ??= developmentKey;
    });
}

if (flags.Users.Count > 0)
{
    var users = new StartTls.Smtp.Authentication.InMemoryUserStore();
    foreach (var user in flags.Users)
    {
        users.AddUser(user.UserName, user.Password);
    }

    builder.Services.PostConfigure<SmtpServerOptions>(o =>
    {
        o.Authentication.PasswordAuthenticator ??= users;
        o.Authentication.ScramCredentialProvider ??= users;
    });
}

var smtp = builder.Services.AddSmtpServer(flags.ApplyTo);
if (flags.Store == StoreKind.Null)
{
    smtp.UseNullStore();
}
else
{
    builder.Services.Configure<MaildirStoreOptions>(builder.Configuration.GetSection("Maildir"));
    smtp.UseMaildirStore(flags.ApplyTo);
}

// Let the server's own grace period (421 to idle sessions, messages in flight may finish) run out before the host gives up.
builder.Services.AddOptions<HostOptions>().Configure<IOptions<SmtpServerOptions>>(
    static (host, server) => host.ShutdownTimeout = server.Value.ShutdownTimeout + TimeSpan.FromSeconds(5));

var host = builder.Build();
var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("StartTls.Smtp.Server");
var lifetime = host.Services.GetRequiredService<IHostApplicationLifetime>();
lifetime.ApplicationStarted.Register(() =>
{
    if (developmentCertificate is not null)
    {
        ServerLog.UsingDevelopmentCertificate(logger, developmentCertificate, developmentCertificateCreated ? "created" : "reused");
    }

    if (flags.Store == StoreKind.Null)
    {
        ServerLog.DiscardingMessages(logger);
    }
    else
    {
        ServerLog.StoringMessages(logger, Path.GetFullPath(host.Services.GetRequiredService<IOptions<MaildirStoreOptions>>().Value.Path));
    }
});
lifetime.ApplicationStopped.Register(() => ServerLog.Stopped(logger));

try
{
    await host.RunAsync(); // Ctrl+C and SIGTERM stop it gracefully.
    return 0;
}
catch (Exception ex) when (ex is not OperationCanceledException)
{
    // Bad settings (OptionsValidationException), a port in use (SocketException), an unusable Maildir (IOException).
    Console.Error.WriteLine($"error: the server could not start: {ex.Message}");
    return 1;
}
