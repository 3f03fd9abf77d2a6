using System.Threading.Channels;

namespace StartTls.Smtp.Storage;

/// <summary>
/// A store that keeps every message in memory, for tests and samples. Thread-safe.
/// </summary>
/// <remarks>
/// Each message is read whole into a byte array and kept until <see cref="Clear"/>: memory grows with every
/// message, so do not use this store for a server facing real traffic. A message whose content fails to arrive
/// (the client disconnects, the size limit is exceeded) is not recorded.
/// </remarks>
/// <example>
/// <code>
/// var store = new InMemoryMessageStore();
/// // ... run a server with the store, send a message ...
/// using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
/// StoredMessage message = await store.WaitForMessageAsync(timeout.Token);
/// </code>
/// </example>
public sealed class InMemoryMessageStore : IMessageStore
{
    private readonly Lock _lock = new();
    private readonly List<StoredMessage> _messages = [];
    private readonly Channel<StoredMessage> _arrivals = Channel.CreateUnbounded<StoredMessage>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

    /// <summary>A snapshot of the messages stored so far, oldest first.</summary>
    public IReadOnlyList<StoredMessage> Messages
    {
        get
        {
            lock (_lock)
            {
                return _messages.ToArray();
            }
        }
    }

    /// <summary>The number of messages stored so far.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _messages.Count;
            }
        }
    }

    /// <summary>Forgets every stored message, including those not yet returned by <see cref="WaitForMessageAsync"/>.</summary>
    public void Clear()
    {
        lock (_lock)
        {
            _messages.Clear();
            while (_arrivals.Reader.TryRead(out _))
            {
            }
        }
    }

    /// <summary>
    /// Returns the oldest stored message that this method has not returned yet, waiting for one if there is none.
    /// Each message is returned once, in the order stored, so a message that arrived before the call is not missed.
    /// </summary>
    /// <param name="cancellationToken">Stops waiting; pass a timeout so a test cannot hang.</param>
    /// <returns>The message.</returns>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled first.</exception>
    public Task<StoredMessage> WaitForMessageAsync(CancellationToken cancellationToken = default)
        => _arrivals.Reader.ReadAsync(cancellationToken).AsTask();

    /// <inheritdoc />
    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(content);

        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();

        var message = new StoredMessage(
            Snapshot(envelope), session.Id, session.RemoteEndPoint, session.HeloName, buffer.ToArray(), DateTimeOffset.UtcNow);
        lock (_lock)
        {
            _messages.Add(message);
            _arrivals.Writer.TryWrite(message);
        }

        return SmtpReply.MessageAccepted;
    }

    // The server may go on using its envelope object; keep what it was when the message was stored.
    private static SmtpEnvelope Snapshot(SmtpEnvelope envelope)
    {
        var copy = new SmtpEnvelope(envelope.From, envelope.MailParameters, envelope.DeclaredSize, envelope.BodyType, envelope.IsSmtpUtf8)
        {
            DsnReturn = envelope.DsnReturn,
            DsnEnvelopeId = envelope.DsnEnvelopeId,
            RequireTls = envelope.RequireTls,
        };
        foreach (var recipient in envelope.Recipients)
        {
            copy.AddRecipient(recipient);
        }

        return copy;
    }
}
