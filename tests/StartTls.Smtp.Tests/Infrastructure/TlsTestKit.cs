using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>Server configurations and certificates shared by the TLS tests.</summary>
public static class TlsTestKit
{
    private static readonly Lazy<X509Certificate2> LazyMx = new(() => TestCertificates.IssueServer("mx.test"));

    /// <summary>One certificate for mx.test, issued once per test run.</summary>
    public static X509Certificate2 MxCertificate => LazyMx.Value;

    /// <summary>A fixed mx.test certificate, plus whatever else the test configures.</summary>
    public static Action<SmtpServerOptions> WithCertificate(Action<SmtpServerOptions>? more = null) => o =>
    {
        o.Tls.CertificateSelector = new SniCertificateSelector(new FixedCertificate(MxCertificate));
        more?.Invoke(o);
    };

    /// <summary>The server's first endpoint turned into implicit TLS.</summary>
    public static Action<SmtpServerOptions> Implicit(Action<SmtpServerOptions>? more = null) => WithCertificate(o =>
    {
        o.Endpoints[0].ImplicitTls = true;
        more?.Invoke(o);
    });

    /// <summary>Connects, reads the greeting, EHLO, STARTTLS (expects 220) and handshakes.</summary>
    public static async Task<(RawSmtpClient Raw, TlsSmtpClient Tls)> ConnectWithStartTlsAsync(this TestServer server, string serverName = "mx.test", string ehlo = "pre.test")
    {
        var raw = await server.ConnectAsync();
        (await raw.EhloAsync(ehlo)).Should().Contain("STARTTLS");
        (await raw.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket, serverName);
        return (raw, tls);
    }

    /// <summary>Connects to an implicit-TLS endpoint, handshakes and reads the greeting inside TLS.</summary>
    public static async Task<(RawSmtpClient Raw, TlsSmtpClient Tls)> ConnectImplicitAsync(this TestServer server, int endpointIndex = 0, string serverName = "mx.test")
    {
        var raw = await RawSmtpClient.ConnectAsync(server.Server.ListeningEndPoints[endpointIndex]);
        var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket, serverName);
        (await tls.ReadReplyAsync()).Should().StartWith("220 mx.test");
        return (raw, tls);
    }
}

/// <summary>The session facts at the moment a message was stored (the session object itself keeps changing).</summary>
public sealed record SessionSnapshot(string SessionId, string ProtocolName, string? HeloName, bool IsSecure, SmtpTlsInfo? Tls);

/// <summary>An in-memory store that also records the session facts of each message.</summary>
public sealed class SessionCapturingStore : IMessageStore
{
    public InMemoryMessageStore Inner { get; } = new();

    public ConcurrentQueue<SessionSnapshot> Snapshots { get; } = new();

    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        Snapshots.Enqueue(new SessionSnapshot(session.Id, session.ProtocolName, session.HeloName, session.IsSecure, session.Tls));
        return await Inner.SaveAsync(session, envelope, content, cancellationToken);
    }
}

/// <summary>Records every session when it closes, so tests can check the TLS facts of connections that stored nothing.</summary>
public sealed class SessionRecorder : ISessionHandler
{
    private readonly ConcurrentQueue<SessionSnapshot> _connected = new();
    private readonly ConcurrentQueue<SessionSnapshot> _closed = new();
    private readonly SemaphoreSlim _signal = new(0);

    /// <summary>The facts when the session was admitted (after the handshake on implicit-TLS endpoints).</summary>
    public IReadOnlyCollection<SessionSnapshot> Connected => _connected;

    public IReadOnlyCollection<SessionSnapshot> Closed => _closed;

    public ValueTask<SmtpReply?> OnConnectedAsync(SmtpSession session, CancellationToken cancellationToken)
    {
        _connected.Enqueue(new SessionSnapshot(session.Id, session.ProtocolName, session.HeloName, session.IsSecure, session.Tls));
        return ValueTask.FromResult<SmtpReply?>(null);
    }

    public ValueTask OnClosedAsync(SmtpSession session)
    {
        _closed.Enqueue(new SessionSnapshot(session.Id, session.ProtocolName, session.HeloName, session.IsSecure, session.Tls));
        _signal.Release();
        return ValueTask.CompletedTask;
    }

    /// <summary>Waits for the next closed session.</summary>
    public async Task WaitForCloseAsync(int count = 1)
    {
        for (var i = 0; i < count; i++)
        {
            (await _signal.WaitAsync(TimeSpan.FromSeconds(10))).Should().BeTrue("a session should have closed");
        }
    }
}
