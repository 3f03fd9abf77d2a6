using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// What the cutover reports on the StartTls.Smtp meter: one protocol violation per refused STARTTLS group (design
/// decision 1), one handshake or one handshake failure (by reason) per attempt. Each test has a meter factory of its
/// own, so it sees only its own server's measurements and runs in parallel with the others.
/// </summary>
public sealed class TlsMetricsTests : IDisposable
{
    private readonly TestMeters _meters = new();

    public void Dispose() => _meters.Dispose();

    private static List<string> Tags(MetricCollector<long> collector)
        => [.. collector.GetMeasurementSnapshot().Select(m => string.Join(",", m.Tags.OrderBy(t => t.Key).Select(t => $"{t.Key}={t.Value}")))];

    [Fact]
    public async Task A_refused_starttls_group_counts_one_violation_and_logs_one_warning()
    {
        using var logs = new LogCapture();
        using var violations = _meters.Collect<long>("smtp.server.protocol_violations");
        using var failures = _meters.Collect<long>("smtp.server.tls.handshake_failures");
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(), loggerFactory: logs, meterFactory: _meters.Factory);
        await using (var client = await server.ConnectAsync())
        {
            await client.EhloAsync();
            await client.SendAsync("STARTTLS\r\nRSET\r\n");
            (await client.ReadReplyAsync()).Should().StartWith("554 5.5.0");
            (await client.IsClosedAsync()).Should().BeTrue();
        }

        Tags(violations).Should().ContainSingle("one refused group is one violation")
            .Which.Should().ContainEquivalentOf("STARTTLS").And.Contain("smtp.endpoint=127.0.0.1:0");
        failures.GetMeasurementSnapshot().Should().BeEmpty("no handshake was ever attempted");
        logs.Lines.Where(l => l.StartsWith("Warning", StringComparison.Ordinal)).Should().ContainSingle()
            .Which.Should().Contain("STARTTLS");
    }

    [Fact]
    public async Task Handshakes_and_their_failures_are_counted_by_protocol_and_reason()
    {
        using var handshakes = _meters.Collect<long>("smtp.server.tls.handshakes");
        using var failures = _meters.Collect<long>("smtp.server.tls.handshake_failures");
        using var violations = _meters.Collect<long>("smtp.server.protocol_violations");
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(o => o.Tls.HandshakeTimeout = TimeSpan.FromSeconds(1)), meterFactory: _meters.Factory);

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

        Tags(handshakes).Should().ContainSingle().Which.Should().MatchRegex("protocol=TLS1\\.[23]");
        Tags(failures).Select(t => t.Split(',').Single(p => p.StartsWith("reason=", StringComparison.Ordinal)))
            .Should().BeEquivalentTo(["reason=not_tls", "reason=timeout"]);
        violations.GetMeasurementSnapshot().Should().BeEmpty();
    }

    [Fact]
    public async Task Two_servers_with_their_own_meter_factories_never_see_each_others_measurements()
    {
        using var other = new TestMeters();
        using var ours = _meters.Collect<long>("smtp.server.connections.accepted");
        using var theirs = other.Collect<long>("smtp.server.connections.accepted");
        await using var first = await TestServer.StartAsync(meterFactory: _meters.Factory);
        await using var second = await TestServer.StartAsync(o => o.ServerName = "other.test", meterFactory: other.Factory);
        await using (await first.ConnectAsync())
        await using (await first.ConnectAsync())
        await using (await second.ConnectAsync())
        {
        }

        ours.GetMeasurementSnapshot().Should().HaveCount(2);
        theirs.GetMeasurementSnapshot().Should().ContainSingle();
        theirs.Instrument!.Meter.Tags.Should().Contain(new KeyValuePair<string, object?>("smtp.server.name", "other.test"));
    }
}
