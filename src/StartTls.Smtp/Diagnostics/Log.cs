using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;

namespace StartTls.Smtp.Diagnostics;

/// <summary>
/// The server's log events, source-generated. Nothing here takes message content, passwords or SASL data. The events
/// of a connection are written inside its scope (<see cref="BeginConnectionScope"/>), which carries the session id and
/// the client's address: a provider with scopes on (for example the console's <c>IncludeScopes</c>) shows them.
/// </summary>
internal static partial class Log
{
    /// <summary>
    /// Opens the scope every event of one connection is written in (including the application's, from its hooks and
    /// store): <c>SessionId</c> and <c>RemoteEndPoint</c>, the client's address as it is when the event is written.
    /// One per connection, instead of the id in every message.
    /// </summary>
    public static IDisposable? BeginConnectionScope(ILogger logger, SmtpSession session) => logger.BeginScope(new ConnectionLogScope(session));

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

    [LoggerMessage(10, LogLevel.Debug, "Connection from {RemoteEndPoint} to {LocalEndPoint}")]
    public static partial void ConnectionOpened(ILogger logger, EndPoint? remoteEndPoint, EndPoint? localEndPoint);

    [LoggerMessage(11, LogLevel.Debug, "Connection closed after {Messages} message(s)")]
    public static partial void ConnectionClosed(ILogger logger, int messages);

    [LoggerMessage(12, LogLevel.Warning, "Refused connection from {RemoteAddress}: {Reason}")]
    public static partial void ConnectionLimited(ILogger logger, IPAddress? remoteAddress, string reason);

    [LoggerMessage(16, LogLevel.Warning, "Refused {Count} more connection(s) in {Interval}, the last from {RemoteAddress}: {Reason}")]
    public static partial void ConnectionsLimited(ILogger logger, long count, TimeSpan interval, IPAddress? remoteAddress, string reason);

    [LoggerMessage(13, LogLevel.Information, "Connection refused by the session handler with {Code}")]
    public static partial void ConnectionRefusedByHandler(ILogger logger, int code);

    [LoggerMessage(14, LogLevel.Debug, "Connection ended by an I/O error")]
    public static partial void ConnectionError(ILogger logger, Exception exception);

    [LoggerMessage(15, LogLevel.Error, "Unexpected error; replied 421 and closed the connection")]
    public static partial void UnexpectedError(ILogger logger, Exception exception);

    [LoggerMessage(20, LogLevel.Warning, "Early talker: the client sent data before the greeting")]
    public static partial void EarlyTalker(ILogger logger);

    [LoggerMessage(21, LogLevel.Information, "Timeout while waiting for {Phase}")]
    public static partial void Timeout(ILogger logger, string phase);

    [LoggerMessage(22, LogLevel.Warning, "Too many errors; closing")]
    public static partial void TooManyErrors(ILogger logger);

    [LoggerMessage(23, LogLevel.Warning, "Protocol violation: {Violation}")]
    public static partial void ProtocolViolation(ILogger logger, string violation);

    [LoggerMessage(24, LogLevel.Information, "Line too long; discarded")]
    public static partial void LineTooLong(ILogger logger);

    [LoggerMessage(40, LogLevel.Debug, "TLS established: {Tls}, server name {ServerName}")]
    public static partial void TlsEstablished(ILogger logger, string tls, string? serverName);

    [LoggerMessage(41, LogLevel.Information, "TLS handshake failed: {Reason}; connection closed")]
    public static partial void TlsHandshakeFailed(ILogger logger, string reason);

    [LoggerMessage(50, LogLevel.Information, "Authenticated with {Mechanism}")]
    public static partial void Authenticated(ILogger logger, string mechanism);

    [LoggerMessage(51, LogLevel.Information, "Authentication with {Mechanism} failed")]
    public static partial void AuthenticationFailed(ILogger logger, string mechanism);


    [LoggerMessage(30, LogLevel.Information, "Message accepted: {Size} octets for {Recipients} recipient(s)")]
    public static partial void MessageAccepted(ILogger logger, long size, int recipients);

    [LoggerMessage(31, LogLevel.Information, "Message refused with {Code}: {Reason}")]
    public static partial void MessageRefused(ILogger logger, int code, string reason);

    [LoggerMessage(32, LogLevel.Error, "The message store failed; replied 451")]
    public static partial void StoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(33, LogLevel.Error, "The {Hook} failed; replied {Code}")]
    public static partial void HookFailed(ILogger logger, string hook, int code, Exception exception);

    [LoggerMessage(37, LogLevel.Warning, "Disposing the services of a session or transaction failed")]
    public static partial void ScopeDisposeFailed(ILogger logger, Exception exception);

    [LoggerMessage(36, LogLevel.Error, "The {Hook} failed")]
    public static partial void NotificationFailed(ILogger logger, string hook, Exception exception);

    [LoggerMessage(35, LogLevel.Warning, "The message store returned before reading the whole message; replied 451")]
    public static partial void StoreDidNotReadAll(ILogger logger);

    [LoggerMessage(70, LogLevel.Information, "PROXY v{Version} header from {Proxy}: client {RemoteEndPoint}, connected to {LocalEndPoint}")]
    public static partial void ProxyHeaderAccepted(ILogger logger, int version, EndPoint? proxy, EndPoint? remoteEndPoint, EndPoint? localEndPoint);

    [LoggerMessage(71, LogLevel.Debug, "PROXY v{Version} header from {Proxy} without a client address (LOCAL or UNKNOWN); the connection's own addresses stand")]
    public static partial void ProxyHeaderLocal(ILogger logger, int version, EndPoint? proxy);

    [LoggerMessage(72, LogLevel.Warning, "No valid PROXY protocol header from trusted source {Proxy}; connection closed without a reply")]
    public static partial void ProxyHeaderInvalid(ILogger logger, EndPoint? proxy);

    [LoggerMessage(73, LogLevel.Information, "XCLIENT from {Proxy}: client now {RemoteEndPoint} ({ClientHostName}), HELO {HeloName}, authenticated {Authenticated}")]
    public static partial void XclientApplied(ILogger logger, EndPoint? proxy, EndPoint? remoteEndPoint, string? clientHostName, string? heloName, bool authenticated);

    [LoggerMessage(90, LogLevel.Error, "The LMTP message store returned {Count} replies for {Recipients} recipients; replied 451 to each")]
    public static partial void LmtpReplyCountMismatch(ILogger logger, int count, int recipients);
}
