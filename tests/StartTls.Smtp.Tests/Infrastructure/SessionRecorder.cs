using System.Collections.Concurrent;
using System.Text;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>The session facts at one moment (the session object itself keeps changing), and the message content when taken at a save.</summary>
public sealed record SessionSnapshot(
    string SessionId,
    string ProtocolName,
    string? HeloName,
    bool IsSecure,
    SmtpTlsInfo? Tls,
    string? Identity,
    string? Mechanism,
    IReadOnlyDictionary<string, string?> MailParameters,
    string Content)
{
    public static SessionSnapshot Of(SmtpSession session, SmtpEnvelope? envelope = null, string content = "")
        => new(session.Id, session.ProtocolName, session.HeloName, session.IsSecure, session.Tls, session.AuthenticatedIdentity,
            session.AuthenticationMechanism, envelope is null ? new Dictionary<string, string?>() : new Dictionary<string, string?>(envelope.MailParameters), content);
}

/// <summary>
/// The one session recorder of the tests. As an <see cref="ISessionHandler"/> it records every connect and close (and
/// can refuse or throw on connect); as an <see cref="IMessageStore"/> it records the session facts and content of each
/// message, then stores it in <see cref="Inner"/>. Pass it as the store, the session handler, or both.
/// </summary>
public sealed class SessionRecorder : ISessionHandler, IMessageStore
{
    private readonly Func<SmtpSession, SmtpReply?> _onConnected;
    private readonly ConcurrentQueue<SessionSnapshot> _connected = new();
    private readonly ConcurrentQueue<SessionSnapshot> _closed = new();
    private readonly TaskCompletionSource<SmtpSession> _firstClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _closeSignal = new(0);

    public SessionRecorder(Func<SmtpSession, SmtpReply?>? onConnected = null) => _onConnected = onConnected ?? (_ => null);

    /// <summary>"connected {id}" and "closed {id}", in the order the hooks ran.</summary>
    public ConcurrentQueue<string> Events { get; } = new();

    /// <summary>The facts when each session was admitted (after the handshake on implicit-TLS endpoints).</summary>
    public IReadOnlyCollection<SessionSnapshot> Connected => _connected;

    /// <summary>The facts when each session closed.</summary>
    public IReadOnlyCollection<SessionSnapshot> Closed => _closed;

    /// <summary>Completes with the session object when the first connection closes.</summary>
    public Task<SmtpSession> FirstClosed => _firstClosed.Task;

    /// <summary>The facts and content of each message stored, in order.</summary>
    public ConcurrentQueue<SessionSnapshot> Snapshots { get; } = new();

    /// <summary>Where the messages go after they were recorded.</summary>
    public InMemoryMessageStore Inner { get; } = new();

    public ValueTask<SmtpReply?> OnConnectedAsync(SmtpSession session, CancellationToken cancellationToken)
    {
        Events.Enqueue("connected " + session.Id);
        _connected.Enqueue(SessionSnapshot.Of(session));
        return ValueTask.FromResult(_onConnected(session));
    }

    public ValueTask OnClosedAsync(SmtpSession session)
    {
        Events.Enqueue("closed " + session.Id);
        _closed.Enqueue(SessionSnapshot.Of(session));
        _firstClosed.TrySetResult(session);
        _closeSignal.Release();
        return ValueTask.CompletedTask;
    }

    /// <summary>Waits for the next <paramref name="count"/> sessions to close.</summary>
    public async Task WaitForCloseAsync(int count = 1)
    {
        for (var i = 0; i < count; i++)
        {
            (await _closeSignal.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue("a session should have closed");
        }
    }

    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        var copy = new MemoryStream();
        await content.CopyToAsync(copy, cancellationToken);
        Snapshots.Enqueue(SessionSnapshot.Of(session, envelope, Encoding.UTF8.GetString(copy.GetBuffer(), 0, (int)copy.Length)));
        copy.Position = 0;
        return await Inner.SaveAsync(session, envelope, copy, cancellationToken);
    }
}
