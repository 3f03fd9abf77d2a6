using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.Tests.Authentication;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Transport;

using StartTls.Smtp.Protocol;

namespace StartTls.Smtp.Tests.Transport;

/// <summary>
/// Refused connections (connection limits) are logged as a summary per interval, not one warning each: the log volume
/// an unauthenticated client can cause is bounded. Refusals waiting for their 421 to be read are bounded too.
/// </summary>
public sealed class RefusalLogTests
{
    [Fact]
    public void A_flood_of_refusals_is_one_warning_then_one_summary_per_interval_and_limit()
    {
        var time = new FakeTimeProvider();
        var logs = new LogCapture();
        var limiter = new ConnectionLimiter(1, 1, logger: logs.CreateLogger("test"), timeProvider: time);
        for (var i = 0; i < 500; i++)
        {
            limiter.LogRefusal(IPAddress.Parse("192.0.2." + (1 + (i % 200))), LimitResult.TooManyConnections, "Too many connections, try again later");
            limiter.LogRefusal(IPAddress.Parse("198.51.100.7"), LimitResult.TooManyFromAddress, "Too many connections from your address, try again later");
        }

        logs.Lines.Should().HaveCount(2);
        logs.Lines.Should().ContainSingle(l => l.StartsWith("Warning test [12] Refused connection from 192.0.2.1: Too many connections, try again later", StringComparison.Ordinal));
        logs.Lines.Should().ContainSingle(l => l.StartsWith("Warning test [12] Refused connection from 198.51.100.7: Too many connections from your address", StringComparison.Ordinal));

        time.Advance(ConnectionLimiter.RefusalLogInterval);
        logs.Lines.Should().HaveCount(4);
        logs.Lines.Should().ContainSingle(l => l.StartsWith("Warning test [16] Refused 499 more connection(s) in 00:00:10, the last from 192.0.2.100: Too many connections, try again later", StringComparison.Ordinal));
        logs.Lines.Should().ContainSingle(l => l.StartsWith("Warning test [16] Refused 499 more connection(s) in 00:00:10, the last from 198.51.100.7: Too many connections from your address", StringComparison.Ordinal));

        // No stack traces: the lines carry no exception.
        logs.Lines.Should().OnlyContain(l => l.EndsWith(" || ", StringComparison.Ordinal));
    }

    [Fact]
    public void At_most_MaxRefusalsInFlight_refusals_wait_for_their_client_at_once()
    {
        var limiter = new ConnectionLimiter(1, 0);
        for (var i = 0; i < ConnectionLimiter.MaxRefusalsInFlight; i++)
        {
            limiter.TryStartRefusal().Should().BeTrue();
        }

        limiter.TryStartRefusal().Should().BeFalse();
        limiter.EndRefusal();
        limiter.TryStartRefusal().Should().BeTrue();
    }

    [Fact]
    public async Task A_server_refusing_many_connections_writes_a_bounded_number_of_lines()
    {
        var logs = new LogCapture();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.MaxConnections = 1;
            o.MaxConnectionsPerIp = 0;
        }, loggerFactory: logs);
        await using var first = await server.ConnectAsync();
        const int Refused = 40;
        var elapsed = Stopwatch.StartNew();
        for (var i = 0; i < Refused; i++)
        {
            await using var refused = await server.ConnectAsync(readGreeting: false);
            (await refused.ReadReplyAsync()).Should().Be("421 4.7.0 Too many connections, try again later");
        }

        // A run starts with one full line and gets at most one summary per interval; with the run cut by quiet
        // intervals, at most one full line and one summary per interval started. Before: one line per refusal.
        var intervals = (int)(elapsed.Elapsed / ConnectionLimiter.RefusalLogInterval) + 1;
        var lines = logs.Lines.Where(l => l.Contains("[12] Refused", StringComparison.Ordinal) || l.Contains("[16] Refused", StringComparison.Ordinal)).ToList();
        lines.Should().NotBeEmpty().And.HaveCountLessThanOrEqualTo(2 * intervals, "{0} refusals in {1}", Refused, elapsed.Elapsed);
        lines[0].Should().Contain("[12] Refused connection from 127.0.0.1: Too many connections, try again later");
    }
}
