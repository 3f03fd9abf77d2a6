using Microsoft.Extensions.Logging;
using StartTls.Smtp.Diagnostics;

namespace StartTls.Smtp.Protocol;

/// <summary>What every connection of one server shares: settings, extension points, clock, meters and limits.</summary>
internal sealed class ServerServices(
    ProtocolSettings settings,
    IExtensionScopes extensions,
    ILogger logger,
    Tls.TlsSettings? tls,
    ServerClock clock,
    DeadlineHeartbeat heartbeat,
    SmtpMetrics metrics,
    ConnectionLimiter limiter)
{
    public ProtocolSettings Settings { get; } = settings;

    /// <summary>Opens each session's (and transaction's) session handler, mailbox filter and message store.</summary>
    public IExtensionScopes Extensions { get; } = extensions;

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
