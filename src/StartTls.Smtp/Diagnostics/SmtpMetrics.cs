using System.Diagnostics.Metrics;

namespace StartTls.Smtp.Diagnostics;

/// <summary>
/// The server's metrics on the <c>StartTls.Smtp</c> meter, for dotnet-counters or OpenTelemetry.
/// </summary>
internal static class SmtpMetrics
{
    /// <summary>The meter's name.</summary>
    public const string MeterName = "StartTls.Smtp";

    private static readonly Meter Meter = new(MeterName, "1.0");

    public static readonly Counter<long> ConnectionsAccepted = Meter.CreateCounter<long>("smtp.server.connections.accepted", "{connection}", "Connections accepted.");

    public static readonly Counter<long> ConnectionsRefused = Meter.CreateCounter<long>("smtp.server.connections.refused", "{connection}", "Connections refused by a limit or the session handler.");

    public static readonly UpDownCounter<long> ActiveConnections = Meter.CreateUpDownCounter<long>("smtp.server.connections.active", "{connection}", "Connections being served.");

    public static readonly Counter<long> MessagesAccepted = Meter.CreateCounter<long>("smtp.server.messages.accepted", "{message}", "Messages stored and acknowledged with 2xx.");

    public static readonly Counter<long> MessagesRefused = Meter.CreateCounter<long>("smtp.server.messages.refused", "{message}", "Messages refused after DATA.");

    public static readonly Counter<long> BytesReceived = Meter.CreateCounter<long>("smtp.server.messages.bytes", "By", "Octets of accepted message content.");

    public static readonly Counter<long> ProtocolViolations = Meter.CreateCounter<long>("smtp.server.protocol_violations", "{violation}", "Bare line endings, NUL, pipelining violations, early talkers, over-long lines.");

    public static readonly Counter<long> TlsHandshakes = Meter.CreateCounter<long>("smtp.server.tls.handshakes", "{handshake}", "Completed TLS handshakes, by protocol.");

    public static readonly Counter<long> TlsHandshakeFailures = Meter.CreateCounter<long>("smtp.server.tls.handshake_failures", "{handshake}", "Failed TLS handshakes, by reason.");

    public static readonly Counter<long> Authentications = Meter.CreateCounter<long>("smtp.server.auth", "{attempt}", "AUTH exchanges, by result.");

    public static readonly Counter<long> Timeouts = Meter.CreateCounter<long>("smtp.server.timeouts", "{timeout}", "Connections closed by a timeout.");

    /// <summary>Counts one protocol violation of the given kind.</summary>
    public static void Violation(string kind) => ProtocolViolations.Add(1, new KeyValuePair<string, object?>("kind", kind));
}
