// The consumer of .ci/pack-and-consume.sh: a fresh console project that has only the StartTls.Smtp package, restored
// from the locally packed folder. It serves SMTP on a free loopback port with its own message store (one file per
// message in the folder given as its argument), prints "listening PORT", and stops cleanly on SIGTERM.
using System.Runtime.InteropServices;
using StartTls.Smtp;
using StartTls.Smtp.Storage;

var folder = Path.GetFullPath(args[0]);
Directory.CreateDirectory(folder);

var options = new SmtpServerOptions();
options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" });

await using var server = new SmtpServer(options, new FolderMessageStore(folder));
var stop = new TaskCompletionSource();
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true; // Stop below, then exit 0.
    stop.TrySetResult();
});

await server.StartAsync();
Console.WriteLine($"listening {server.ListeningEndPoints[0].Port}");
await stop.Task;
await server.StopAsync();
Console.WriteLine("stopped");
return 0;

/// <summary>Writes each message to its own file; the name appears only once the whole message is on disk.</summary>
internal sealed class FolderMessageStore(string folder) : IMessageStore
{
    private int _count;

    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        var name = $"message-{Interlocked.Increment(ref _count)}.eml";
        var partial = Path.Combine(folder, name + ".partial");
        await using (var file = File.Create(partial))
        {
            await content.CopyToAsync(file, cancellationToken);
        }

        File.Move(partial, Path.Combine(folder, name));
        return SmtpReply.MessageAccepted;
    }
}
