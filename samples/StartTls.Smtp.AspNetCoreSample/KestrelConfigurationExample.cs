// <readme:aspnetcore>
using StartTls.Smtp.AspNetCore;
using StartTls.Smtp.Hosting;
// </readme:aspnetcore>

namespace StartTls.Smtp.AspNetCoreSample;

internal static class KestrelConfigurationExample
{
    public static async Task RunAsync(string[] args)
    {
        // <readme:aspnetcore>
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddSmtpServer(o => builder.Configuration.GetSection("Smtp").Bind(o))
            .UseMaildirStore(o => builder.Configuration.GetSection("Maildir").Bind(o))
            .UseKestrelOnly(); // SMTP on Kestrel endpoints only: the server opens no socket of its own
        builder.Services.AddHealthChecks().AddSmtpServer(); // "smtp": Healthy while every SMTP endpoint listens
        builder.WebHost.ConfigureKestrel((context, kestrel) => kestrel
            .Configure(context.Configuration.GetSection("Kestrel"))
            .Endpoint("Smtp", endpoint => endpoint.ListenOptions.UseSmtp(o => o.Name = "mx")));
        // </readme:aspnetcore>
        if (builder.Configuration["Store"] == "null")
        {
            // Load runs: read every message to its end and keep nothing, like the sample server's --store null.
            builder.Services.AddSmtpServer().UseNullStore();
        }

        // <readme:aspnetcore>
        var app = builder.Build();
        app.MapHealthChecks("/healthz");
        await app.RunAsync();
        // </readme:aspnetcore>
    }
}
