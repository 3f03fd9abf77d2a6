using Microsoft.Extensions.Logging;

namespace StartTls.Smtp.Gateway;

/// <summary>The gateway's log events (never addresses or message content).</summary>
internal static partial class GatewayLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Session {SessionId}: the upstream failed at {Stage}")]
    public static partial void UpstreamFailed(ILogger logger, string sessionId, string stage, Exception exception);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Session {SessionId}: the upstream answered RCPT with {Code}")]
    public static partial void UpstreamRecipient(ILogger logger, string sessionId, int code);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Session {SessionId}: the upstream answered the message with {Code}")]
    public static partial void UpstreamData(ILogger logger, string sessionId, int code);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Gateway listening on {Listen}, relaying to {UpstreamHost}:{UpstreamPort} (upstream TLS: {Mode})")]
    public static partial void Started(ILogger logger, string listen, string upstreamHost, int upstreamPort, UpstreamTlsMode mode);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "Session {SessionId}: the message could not be spooled; the client was told 452 4.3.1")]
    public static partial void SpoolFailed(ILogger logger, string sessionId, Exception exception);
}
