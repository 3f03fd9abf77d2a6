using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// What the cutover reports on the StartTls.Smtp meter: one protocol violation per refused STARTTLS group (design
/// decision 1), one handshake or one handshake failure (by reason) per attempt. Run alone: the meter is process-wide.
/// </summary>
[Collection(SerialTests.Name)]
public sealed class TlsMetricsTests : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, long Value, string Tags)> _measurements = new();

    public TlsMetricsTests()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "StartTls.Smtp")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var text = string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}"));
            _measurements.Enqueue((instrument.Name, value, text));
        });
        _listener.Start();
    }

    public void Dispose() => _listener.Dispose();

    private List<(string Instrument, long Value, string Tags)> Recorded(string instrument)
        => _measurements.Where(m => m.Instrument == instrument).ToList();

    [Fact]
    public async Task A_refused_starttls_group_counts_one_violation_and_logs_one_warning()
    {
        using var logs = new LogCapture();
        var sessions = new SessionRecorder();
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(), sessionHandler: sessions, loggerFactory: logs);
        await using (var client = await server.ConnectAsync())
        {
            await client.EhloAsync();
            await client.SendAsync("STARTTLS\r\nRSET\r\n");
            (await client.ReadReplyAsync()).Should().StartWith("554 5.5.0");
            (await client.IsClosedAsync()).Should().BeTrue();
        }

        await sessions.WaitForCloseAsync(); // the server has finished the session, so it has counted and logged
        var violations = Recorded("smtp.server.protocol_violations");
        violations.Should().ContainSingle("one refused group is one violation: " + string.Join("; ", violations))
            .Which.Tags.Should().ContainEquivalentOf("STARTTLS");
        Recorded("smtp.server.tls.handshake_failures").Should().BeEmpty("no handshake was ever attempted");
        logs.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal)).Should().ContainSingle()
            .Which.Should().Contain("STARTTLS");
    }

    [Fact]
    public async Task Handshakes_and_their_failures_are_counted_by_protocol_and_reason()
    {
        var sessions = new SessionRecorder();
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(o => o.Tls.HandshakeTimeout = TimeSpan.FromSeconds(1)), sessionHandler: sessions);

        var (raw, tls) = await server.ConnectWithStartTlsAsync();
        await using (raw)
        await using (tls)
        {
            await tls.EhloAsync();
        }

        await using (var notTls = await server.ConnectAsync())
        {
            await notTls.EhloAsync();
            (await notTls.CommandAsync("STARTTLS")).Should().StartWith("220");
            await notTls.SendAsync("EHLO c.test\r\n");
            (await notTls.IsClosedAsync()).Should().BeTrue();
        }

        await using (var silent = await server.ConnectAsync())
        {
            await silent.EhloAsync();
            (await silent.CommandAsync("STARTTLS")).Should().StartWith("220");
            (await silent.IsClosedAsync(TimeSpan.FromSeconds(5))).Should().BeTrue();
        }

        await sessions.WaitForCloseAsync(3); // the server has finished all three sessions, so it has counted them
        Recorded("smtp.server.tls.handshakes").Should().ContainSingle().Which.Tags.Should().MatchRegex("protocol=TLS1\\.[23]");
        Recorded("smtp.server.tls.handshake_failures").Select(m => m.Tags).Should().BeEquivalentTo(["reason=not_tls", "reason=timeout"]);
        Recorded("smtp.server.protocol_violations").Should().BeEmpty();
    }
}
