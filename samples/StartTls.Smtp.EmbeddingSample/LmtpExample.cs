namespace StartTls.Smtp.EmbeddingSample;

internal static class LmtpExample
{
    public static async Task RunAsync()
    {
        // <readme:lmtp>
        var options = new SmtpServerOptions { ServerName = "mail.example.com" };
        options.Endpoints.Add(new SmtpEndpointOptions
        {
            Address = "127.0.0.1:2424", // loopback, never port 25 (RFC 2033 §5)
            Name = "lmtp",
            Protocol = SmtpEndpointProtocol.Lmtp,
        });

        await using var server = new SmtpServer(options, new MailboxLmtpStore(new HashSet<string> { "alice@example.com" }));
        await server.StartAsync();
        // </readme:lmtp>
        Console.WriteLine($"LMTP on {string.Join(", ", server.ListeningEndPoints)}; press Enter to stop.");
        Console.ReadLine();
        await server.StopAsync();
    }
}
