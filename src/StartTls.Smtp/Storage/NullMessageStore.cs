using System.Buffers;

namespace StartTls.Smtp.Storage;

/// <summary>
/// A store that reads every message to its end, discards it and answers <c>250 2.0.0</c>:
/// for benchmarks, and for servers that only care about what their other extension points see.
/// </summary>
public sealed class NullMessageStore : IMessageStore
{
    private const int BufferSize = 16 * 1024;

    private NullMessageStore()
    {
    }

    /// <summary>The single instance.</summary>
    public static NullMessageStore Instance { get; } = new();

    /// <inheritdoc />
    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);

        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            while (await content.ReadAsync(buffer, cancellationToken).ConfigureAwait(false) != 0)
            {
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return SmtpReply.MessageAccepted;
    }
}
