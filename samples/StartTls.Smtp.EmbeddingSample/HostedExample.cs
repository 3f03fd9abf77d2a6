// <readme:generic-host>
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StartTls.Smtp;
using StartTls.Smtp.Hosting;
// </readme:generic-host>

namespace StartTls.Smtp.EmbeddingSample;

internal static class HostedExample
{
    public static async Task RunAsync(string[] args)
    {
        // <readme:generic-host>
        var builder = Host.CreateApplicationBuilder(args);
        builder.Services.AddSmtpServer(o =>
            {
                o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:2526" });
                o.ServerName = "mx.example.com";
                o.MaxMessageSize = 10 * 1024 * 1024;
            })
            .UseMessageStore<ConsoleMessageStore>()
            .UseMailboxFilter<ExampleComFilter>();
        await builder.Build().RunAsync();
        // </readme:generic-host>
    }
}
