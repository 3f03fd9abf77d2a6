// <readme:aspnetcore-code>
using StartTls.Smtp.AspNetCore;
using StartTls.Smtp.Hosting;
// </readme:aspnetcore-code>

namespace StartTls.Smtp.AspNetCoreSample;

internal static class KestrelCodeExample
{
    public static async Task RunAsync(string[] args)
    {
        // <readme:aspnetcore-code>
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddSmtpServer().UseMaildirStore(o => o.Path = "mail").UseKestrelOnly();
        builder.Services.AddHealthChecks().AddSmtpServer();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.ListenLocalhost(5080); // HTTP: /healthz
            kestrel.ListenLocalhost(2525, listen => listen.UseSmtp()); // SMTP; STARTTLS once Tls has a certificate
        });

        var app = builder.Build();
        app.MapHealthChecks("/healthz");
        await app.RunAsync();
        // </readme:aspnetcore-code>
    }
}
