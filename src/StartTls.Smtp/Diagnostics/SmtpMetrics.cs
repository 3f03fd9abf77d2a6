using System.Diagnostics.Metrics;

namespace StartTls.Smtp.Diagnostics;

/// <summary>
/// One server's instruments on the <see cref="SmtpTelemetry.MeterName"/> meter. The meter comes from the host's
/// <see cref="IMeterFactory"/> when there is one (so each host, and each test, sees only its own measurements) and is
/// owned by the server otherwise. The meter carries the server's name; each measurement carries its endpoint.
/// </summary>
internal sealed class SmtpMetrics : IDisposable
{
    private readonly Meter _meter;
    private readonly bool _ownsMeter;

    public SmtpMetrics(IMeterFactory? meterFactory, string serverName)
    {
        var options = new MeterOptions(SmtpTelemetry.MeterName)
        {
            Version = "1.0",
            Tags = [new KeyValuePair<string, object?>(SmtpTelemetry.ServerNameTag, serverName)],
        };
        _ownsMeter = meterFactory is null;
        _meter = meterFactory?.Create(options) ?? new Meter(options);
        ConnectionsAccepted = _meter.CreateCounter<long>("smtp.server.connections.accepted", "{connection}", "Connections accepted.");
        ConnectionsRefused = _meter.CreateCounter<long>("smtp.server.connections.refused", "{connection}", "Connections refused by a limit or the session handler, by reason.");
        ActiveConnections = _meter.CreateUpDownCounter<long>("smtp.server.connections.active", "{connection}", "Connections being served.");
        MessagesAccepted = _meter.CreateCounter<long>("smtp.server.messages.accepted", "{message}", "Messages stored and acknowledged with 2xx.");
        MessagesRefused = _meter.CreateCounter<long>("smtp.server.messages.refused", "{message}", "Messages refused after DATA.");
        BytesReceived = _meter.CreateCounter<long>("smtp.server.messages.bytes", "By", "Octets of accepted message content.");
        ProtocolViolations = _meter.CreateCounter<long>("smtp.server.protocol_violations", "{violation}", "Bare line endings, NUL, pipelining violations, early talkers, over-long lines, by kind.");
        TlsHandshakes = _meter.CreateCounter<long>("smtp.server.tls.handshakes", "{handshake}", "Completed TLS handshakes, by protocol.");
        TlsHandshakeFailures = _meter.CreateCounter<long>("smtp.server.tls.handshake_failures", "{handshake}", "Failed TLS handshakes, by reason.");
        Authentications = _meter.CreateCounter<long>("smtp.server.auth", "{attempt}", "AUTH exchanges, by result.");
        Timeouts = _meter.CreateCounter<long>("smtp.server.timeouts", "{timeout}", "Connections closed by a timeout, by phase.");
        StressActive = _meter.CreateObservableGauge("smtp.server.stress", () => StressProbe?.Invoke() ?? 0, "{state}", "1 while the server is in stress mode (shortened timeouts), else 0.");
    }

    public Counter<long> ConnectionsAccepted { get; }

    public Counter<long> ConnectionsRefused { get; }

    public UpDownCounter<long> ActiveConnections { get; }

    public Counter<long> MessagesAccepted { get; }

    public Counter<long> MessagesRefused { get; }

    public Counter<long> BytesReceived { get; }

    public Counter<long> ProtocolViolations { get; }

    public Counter<long> TlsHandshakes { get; }

    public Counter<long> TlsHandshakeFailures { get; }

    public Counter<long> Authentications { get; }

    public Counter<long> Timeouts { get; }

    public ObservableGauge<int> StressActive { get; }

    /// <summary>Reads the stress state for <see cref="StressActive"/>; set by the server.</summary>
    public Func<int>? StressProbe { get; set; }

    /// <summary>Counts one protocol violation of the given kind on an endpoint.</summary>
    public void Violation(string kind, KeyValuePair<string, object?> endpoint)
        => ProtocolViolations.Add(1, endpoint, new KeyValuePair<string, object?>("kind", kind));

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsMeter)
        {
            _meter.Dispose();
        }
    }
}
