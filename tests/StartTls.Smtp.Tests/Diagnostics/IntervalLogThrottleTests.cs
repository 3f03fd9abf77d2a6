using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.Diagnostics;

namespace StartTls.Smtp.Tests.Diagnostics;

/// <summary>
/// The log summariser: the first of a run at once and in full, then at most one summary per interval with the count
/// and the last detail; a quiet interval ends the run; disposing reports what is still counted.
/// </summary>
public sealed class IntervalLogThrottleTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);

    [Fact]
    public void The_first_occurrence_is_logged_at_once_and_the_rest_of_the_interval_only_counted()
    {
        var (time, lines, throttle) = Create();
        using (throttle)
        {
            for (var i = 1; i <= 1000; i++)
            {
                throttle.Record(i);
            }

            lines.Should().Equal("first 1");

            time.Advance(Interval - TimeSpan.FromMilliseconds(1));
            lines.Should().Equal("first 1");

            time.Advance(TimeSpan.FromMilliseconds(1));
            lines.Should().Equal("first 1", "summary 999 in 00:00:10, last 1000");
        }
    }

    [Fact]
    public void A_lasting_run_gets_one_summary_per_interval_and_a_quiet_interval_ends_it()
    {
        var (time, lines, throttle) = Create();
        using (throttle)
        {
            throttle.Record(1);
            for (var second = 0; second < 30; second++)
            {
                throttle.Record(100 + second);
                throttle.Record(200 + second);
                time.Advance(TimeSpan.FromSeconds(1));
            }

            lines.Should().Equal("first 1", "summary 20 in 00:00:10, last 209", "summary 20 in 00:00:10, last 219", "summary 20 in 00:00:10, last 229");

            // Nothing in the next interval: the run ends without a line, and the next occurrence is logged in full.
            time.Advance(Interval);
            lines.Should().HaveCount(4);
            throttle.Record(7);
            lines.Should().HaveCount(5).And.EndWith("first 7");
        }
    }

    [Fact]
    public void A_single_occurrence_gives_a_single_line()
    {
        var (time, lines, throttle) = Create();
        using (throttle)
        {
            throttle.Record(1);
            time.Advance(Interval * 5);
            lines.Should().Equal("first 1");
        }
    }

    [Fact]
    public void Disposing_reports_the_occurrences_still_counted_and_then_nothing_more()
    {
        var (time, lines, throttle) = Create();
        throttle.Record(1);
        throttle.Record(2);
        throttle.Record(3);

        throttle.Dispose();
        throttle.Record(4);
        time.Advance(Interval * 2);
        throttle.Dispose();

        lines.Should().Equal("first 1", "summary 2 in 00:00:10, last 3");
    }

    [Fact]
    public async Task Concurrent_occurrences_are_each_counted_once()
    {
        var (time, lines, throttle) = Create();
        using (throttle)
        {
            await Task.WhenAll(Enumerable.Range(0, 4).Select(t => Task.Run(() =>
            {
                for (var i = 0; i < 10_000; i++)
                {
                    throttle.Record(t);
                }
            })));

            time.Advance(Interval);
            lines.Should().HaveCount(2);
            lines[1].Should().StartWith("summary 39999 in ");
        }
    }

    [Fact]
    public void It_can_be_created_where_the_execution_context_flow_is_already_suppressed()
    {
        using (ExecutionContext.SuppressFlow())
        {
            using var throttle = new IntervalLogThrottle<int>(Interval, TimeProvider.System, static _ => { }, static (_, _, _) => { });
            throttle.Record(1);
        }
    }

    private static (FakeTimeProvider Time, List<string> Lines, IntervalLogThrottle<int> Throttle) Create()
    {
        var time = new FakeTimeProvider();
        var lines = new List<string>();
        var throttle = new IntervalLogThrottle<int>(Interval, time,
            detail =>
            {
                lock (lines)
                {
                    lines.Add($"first {detail}");
                }
            },
            (count, interval, last) =>
            {
                lock (lines)
                {
                    lines.Add($"summary {count} in {interval}, last {last}");
                }
            });
        return (time, lines, throttle);
    }
}
