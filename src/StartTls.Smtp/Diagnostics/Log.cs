using System.Net;
using Microsoft.Extensions.Logging;

namespace StartTls.Smtp.Diagnostics;

/// <summary>
/// The server's log events, source-generated. Nothing here takes message content, passwords or SASL data.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "SMTP server listening on {EndPoint}")]
    public static partial void Listening(ILogger logger, EndPoint endPoint);

    [LoggerMessage(2, LogLevel.Information, "SMTP server stopping; {Count} connection(s) open")]
    public static partial void Stopping(ILogger logger, int count);

    [LoggerMessage(3, LogLevel.Warning, "Shutdown deadline passed; aborting {Count} connection(s)")]
    public static partial void AbortingConnections(ILogger logger, int count);

    [LoggerMessage(4, LogLevel.Warning, "Accepting a connection failed")]
    public static partial void AcceptFailed(ILogger logger, Exception exception);

    [LoggerMessage(5, LogLevel.Warning, "{Count} connection(s) did not end after they were aborted; the server stopped without them")]
    public static partial void ConnectionsAbandoned(ILogger logger, int count);

    [LoggerMessage(6, LogLevel.Error, "A connection's deadline callback failed")]
    public static partial void HeartbeatCallbackFailed(ILogger logger, Exception exception);

    [LoggerMessage(7, LogLevel.Warning, "Stress mode on: {Count} connection(s) open; greeting and command timeouts shortened")]
    public static partial void StressStarted(ILogger logger, int count);

    [LoggerMessage(8, LogLevel.Information, "Stress mode off: {Count} connection(s) open")]
    public static partial void StressEnded(ILogger logger, int count);

    [LoggerMessage(10, LogLevel.Debug, "[{SessionId}] Connection from {RemoteEndPoint} to {LocalEndPoint}")]
    public static partial void ConnectionOpened(ILogger logger, string sessionId, EndPoint? remoteEndPoint, EndPoint? localEndPoint);

    [LoggerMessage(11, LogLevel.Debug, "[{SessionId}] Connection closed after {Messages} message(s)")]
    public static partial void ConnectionClosed(ILogger logger, string sessionId, int messages);

    [LoggerMessage(12, LogLevel.Warning, "Refused connection from {RemoteAddress}: {Reason}")]
    public static partial void ConnectionLimited(ILogger logger, IPAddress? remoteAddress, string reason);

    [LoggerMessage(13, LogLevel.Information, "[{SessionId}] Connection refused by the session handler with {Code}")]
    public static partial void ConnectionRefusedByHandler(ILogger logger, string sessionId, int code);

    [LoggerMessage(14, LogLevel.Debug, "[{SessionId}] Connection ended by an I/O error")]
    public static partial void ConnectionError(ILogger logger, string sessionId, Exception exception);

    [LoggerMessage(15, LogLevel.Error, "[{SessionId}] Unexpected error; replied 421 and closed the connection")]
    public static partial void UnexpectedError(ILogger logger, string sessionId, Exception exception);

    [LoggerMessage(20, LogLevel.Warning, "[{SessionId}] Early talker: the client sent data before the greeting")]
    public static partial void EarlyTalker(ILogger logger, string sessionId);

    [LoggerMessage(21, LogLevel.Information, "[{SessionId}] Timeout while waiting for {Phase}")]
    public static partial void Timeout(ILogger logger, string sessionId, string phase);

    [LoggerMessage(22, LogLevel.Warning, "[{SessionId}] Too many errors; closing")]
    public static partial void TooManyErrors(ILogger logger, string sessionId);

    [LoggerMessage(23, LogLevel.Warning, "[{SessionId}] Protocol violation: {Violation}")]
    public static partial void ProtocolViolation(ILogger logger, string sessionId, string violation);

    [LoggerMessage(24, LogLevel.Information, "[{SessionId}] Line too long; discarded")]
    public static partial void LineTooLong(ILogger logger, string sessionId);

    [LoggerMessage(40, LogLevel.Debug, "[{SessionId}] TLS established: {Tls}, server name {ServerName}")]
    public static partial void TlsEstablished(ILogger logger, string sessionId, string tls, string? serverName);

    [LoggerMessage(41, LogLevel.Information, "[{SessionId}] TLS handshake failed: {Reason}; connection closed")]
    public static partial void TlsHandshakeFailed(ILogger logger, string sessionId, string reason);

    [LoggerMessage(50, LogLevel.Information, "[{SessionId}] Authenticated with {Mechanism}")]
    public static partial void Authenticated(ILogger logger, string sessionId, string mechanism);

    [LoggerMessage(51, LogLevel.Information, "[{SessionId}] Authentication with {Mechanism} failed")]
    public static partial void AuthenticationFailed(ILogger logger, string sessionId, string mechanism);


    [LoggerMessage(30, LogLevel.Information, "[{SessionId}] Message accepted: {Size} octets for {Recipients} recipient(s)")]
    public static partial void MessageAccepted(ILogger logger, string sessionId, long size, int recipients);

    [LoggerMessage(31, LogLevel.Information, "[{SessionId}] Message refused with {Code}: {Reason}")]
    public static partial void MessageRefused(ILogger logger, string sessionId, int code, string reason);

    [LoggerMessage(32, LogLevel.Error, "[{SessionId}] The message store failed; replied 451")]
    public static partial void StoreFailed(ILogger logger, string sessionId, Exception exception);

    [LoggerMessage(33, LogLevel.Error, "[{SessionId}] The {Hook} failed; replied {Code}")]
    public static partial void HookFailed(ILogger logger, string sessionId, string hook, int code, Exception exception);

    [LoggerMessage(36, LogLevel.Error, "[{SessionId}] The {Hook} failed")]
    public static partial void NotificationFailed(ILogger logger, string sessionId, string hook, Exception exception);

    [LoggerMessage(35, LogLevel.Warning, "[{SessionId}] The message store returned before reading the whole message; replied 451")]
    public static partial void StoreDidNotReadAll(ILogger logger, string sessionId);
}
