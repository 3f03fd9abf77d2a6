// The README's Install program, runnable: dotnet run --project samples/StartTls.Smtp.QuickStart
// <readme:install>
using StartTls.Smtp;
using StartTls.Smtp.Storage;

var options = new SmtpServerOptions();
options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:2525" });

await using var server = new SmtpServer(options, new PrintingStore());
await server.StartAsync();
Console.WriteLine("Listening on 127.0.0.1:2525; press Ctrl+C to stop.");

var stop = new TaskCompletionSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.TrySetResult(); };
await stop.Task;
await server.StopAsync();

// Each message arrives as a stream: read it to the end, then answer.
internal sealed class PrintingStore : IMessageStore
{
    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(content);
        var text = await reader.ReadToEndAsync(cancellationToken);
        Console.WriteLine($"Message from {envelope.From}: {text.Length} chars");
        return SmtpReply.MessageAccepted; // 250 2.0.0
    }
}
// </readme:install>
