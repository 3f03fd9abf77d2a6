using System.Collections.Concurrent;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// A per-recipient store for LMTP tests: reads the whole content, then answers each recipient with the reply the
/// test's function gives for its address (or fails as the test says). Keeps what it read.
/// </summary>
public sealed class LmtpTestStore(Func<SmtpEnvelope, IReadOnlyList<SmtpReply>> replies) : ILmtpMessageStore
{
    /// <summary>The contents read, one per call of either method.</summary>
    public ConcurrentQueue<string> Contents { get; } = new();

    /// <summary>How many times the single-reply <see cref="SaveAsync"/> ran (an SMTP endpoint's call).</summary>
    public int SingleReplyCalls { get; private set; }

    /// <summary>Answers each recipient by its address: <paramref name="byAddress"/>'s reply, 250 when it has none.</summary>
    public static LmtpTestStore ByAddress(IReadOnlyDictionary<string, SmtpReply> byAddress)
        => new(e => [.. e.Recipients.Select(r => byAddress.TryGetValue(r.Mailbox.Address, out var reply) ? reply : SmtpReply.MessageAccepted)]);

    public async ValueTask<IReadOnlyList<SmtpReply>> SaveForEachRecipientAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        Contents.Enqueue(await ReadAllAsync(content, cancellationToken));
        return replies(envelope);
    }

    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        SingleReplyCalls++;
        Contents.Enqueue(await ReadAllAsync(content, cancellationToken));
        return SmtpReply.MessageAccepted;
    }

    private static async Task<string> ReadAllAsync(Stream content, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        return System.Text.Encoding.Latin1.GetString(buffer.ToArray());
    }
}
