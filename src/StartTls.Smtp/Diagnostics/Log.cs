using System.Net;
using System.Net.Sockets;
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

    [LoggerMessage(4, LogLevel.Warning, "Accepting a connection on {EndPoint} failed ({SocketError}); further failures are summarised every {Interval}")]
    public static partial void AcceptFailed(ILogger logger, EndPoint endPoint, SocketError socketError, TimeSpan interval, Exception exception);

    [LoggerMessage(5, LogLevel.Warning, "Accepting a connection on {EndPoint} failed {Count} more time(s) in {Interval}, the last with {SocketError}")]
    public static partial void AcceptFailures(ILogger logger, EndPoint endPoint, long count, TimeSpan interval, SocketError socketError);

    [LoggerMessage(8, LogLevel.Error, "Serving a connection accepted on {EndPoint} failed before it started; connection closed. Further failures are summarised every {Interval}")]
    public static partial void DispatchFailed(ILogger logger, EndPoint endPoint, TimeSpan interval, Exception exception);

    [LoggerMessage(9, LogLevel.Error, "Serving a connection accepted on {EndPoint} failed before it started {Count} more time(s) in {Interval}, the last with {ExceptionType}")]
    public static partial void DispatchFailures(ILogger logger, EndPoint endPoint, long count, TimeSpan interval, string exceptionType);

    [LoggerMessage(6, LogLevel.Warning, "The open file limit (RLIMIT_NOFILE) is {SoftLimit} (hard limit {HardLimit}) and {Open} descriptors are open; keeping {Reserve} in reserve, MaxConnections {Configured} is lowered to {Effective}. Raise the limit (systemd LimitNOFILE=, docker --ulimit nofile=) to serve more")]
    public static partial void MaxConnectionsLowered(ILogger logger, long softLimit, long hardLimit, int open, int reserve, int configured, int effective);

    [LoggerMessage(7, LogLevel.Debug, "The open file limit (RLIMIT_NOFILE) is {SoftLimit} and {Open} descriptors are open: room for MaxConnections {MaxConnections} and a reserve of {Reserve}")]
    public static partial void FileDescriptorsSufficient(ILogger logger, long softLimit, int open, int maxConnections, int reserve);

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

    [LoggerMessage(16, LogLevel.Warning, "Refused {Count} more connection(s) in {Interval}, the last from {RemoteAddress}: {Reason}")]
    public static partial void ConnectionsLimited(ILogger logger, long count, TimeSpan interval, IPAddress? remoteAddress, string reason);

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

    [LoggerMessage(70, LogLevel.Information, "[{SessionId}] PROXY v{Version} header from {Proxy}: client {RemoteEndPoint}, connected to {LocalEndPoint}")]
    public static partial void ProxyHeaderAccepted(ILogger logger, string sessionId, int version, EndPoint? proxy, EndPoint? remoteEndPoint, EndPoint? localEndPoint);

    [LoggerMessage(71, LogLevel.Debug, "[{SessionId}] PROXY v{Version} header from {Proxy} without a client address (LOCAL or UNKNOWN); the connection's own addresses stand")]
    public static partial void ProxyHeaderLocal(ILogger logger, string sessionId, int version, EndPoint? proxy);

    [LoggerMessage(72, LogLevel.Warning, "[{SessionId}] No valid PROXY protocol header from trusted source {Proxy}; connection closed without a reply")]
    public static partial void ProxyHeaderInvalid(ILogger logger, string sessionId, EndPoint? proxy);

    [LoggerMessage(73, LogLevel.Information, "[{SessionId}] XCLIENT from {Proxy}: client now {RemoteEndPoint} ({ClientHostName}), HELO {HeloName}, authenticated {Authenticated}")]
    public static partial void XclientApplied(ILogger logger, string sessionId, EndPoint? proxy, EndPoint? remoteEndPoint, string? clientHostName, string? heloName, bool authenticated);
}
