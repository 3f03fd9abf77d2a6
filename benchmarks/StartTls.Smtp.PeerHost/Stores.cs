using System.Buffers;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace StartTls.Smtp.PeerHost;

/// <summary>Acknowledges every message and keeps nothing: the peer's counterpart of our <c>--store null</c>.</summary>
internal sealed class NullMessageStore : MessageStore
{
    private static readonly Task<SmtpResponse> Accepted = Task.FromResult(SmtpResponse.Ok);

    /// <inheritdoc />
    public override Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        => Accepted;
}

/// <summary>
/// Writes each message to its own new <c>.eml</c> file and acknowledges it once written, without fsync: the simple
/// file writer a user of the package writes (the package has no file store of its own). Not durable on power loss.
/// </summary>
internal sealed class EmlFileMessageStore : MessageStore
{
    private readonly string _directory;

    /// <summary>Initializes a new instance of the <see cref="EmlFileMessageStore"/> class.</summary>
    /// <param name="directory">An existing directory.</param>
    public EmlFileMessageStore(string directory) => _directory = directory;

    /// <inheritdoc />
    public override async Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        var path = Path.Combine(_directory, Guid.NewGuid().ToString("N") + ".eml");
        var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, useAsync: true);
        await using (file.ConfigureAwait(false))
        {
            foreach (var segment in buffer)
            {
                await file.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
            }
        }

        return SmtpResponse.Ok;
    }
}
