// <readme:without-host>
using Microsoft.Extensions.Logging;
using StartTls.Smtp;
// </readme:without-host>

namespace StartTls.Smtp.EmbeddingSample;

internal static class PlainExample
{
    public static async Task RunAsync()
    {
        // <readme:without-host>
        var options = new SmtpServerOptions { ServerName = "mx.example.com" };
        options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:2526" });
        using var loggerFactory = LoggerFactory.Create(b => b.AddConsole());

        await using var server = new SmtpServer(options, new ConsoleMessageStore(), new ExampleComFilter(), loggerFactory: loggerFactory);
        await server.StartAsync();
        Console.WriteLine($"Listening on {string.Join(", ", server.ListeningEndPoints)}; press Enter to stop.");
        Console.ReadLine();
        await server.StopAsync(); // graceful: 421 to idle sessions, messages in flight may finish
        // </readme:without-host>
    }
}
