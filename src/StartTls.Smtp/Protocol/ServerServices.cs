using Microsoft.Extensions.Logging;
using StartTls.Smtp.Diagnostics;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Protocol;

/// <summary>What every connection of one server shares: settings, extension points, clock, meters and limits.</summary>
internal sealed class ServerServices(
    ProtocolSettings settings,
    IMessageStore store,
    IMailboxFilter filter,
    ISessionHandler? sessionHandler,
    ILogger logger,
    Tls.TlsSettings? tls,
    ServerClock clock,
    DeadlineHeartbeat heartbeat,
    SmtpMetrics metrics,
    ConnectionLimiter limiter)
{
    public ProtocolSettings Settings { get; } = settings;

    public IMessageStore Store { get; } = store;

    public IMailboxFilter Filter { get; } = filter;

    public ISessionHandler? SessionHandler { get; } = sessionHandler;

    public ILogger Logger { get; } = logger;

    /// <summary>The TLS configuration, or <see langword="null"/> when no certificate is configured.</summary>
    public Tls.TlsSettings? Tls { get; } = tls;

    /// <summary>The server's clock: every deadline, timer and timeout runs on it.</summary>
    public ServerClock Clock { get; } = clock;

    /// <summary>The one timer that watches every connection's deadline.</summary>
    public DeadlineHeartbeat Heartbeat { get; } = heartbeat;

    public SmtpMetrics Metrics { get; } = metrics;

    /// <summary>Connection limits and the stress state, for every transport.</summary>
    public ConnectionLimiter Limiter { get; } = limiter;
}
