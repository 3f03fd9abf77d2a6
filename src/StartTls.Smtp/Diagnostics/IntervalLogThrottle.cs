namespace StartTls.Smtp.Diagnostics;

/// <summary>
/// Bounds the log lines a repeating event can cause: the first occurrence is logged at once and in full; the ones
/// that follow within <see cref="Interval"/> are only counted, and at the end of each interval that had any, one
/// summary line gives their count and the last one's detail. An interval without occurrences ends the run, so the next
/// occurrence is logged in full again.
/// </summary>
/// <remarks>
/// Events a client can cause (refused connections) or that repeat as fast as a loop can spin (accept failures) would
/// otherwise write a line, often with a stack trace, each time: tens of thousands per second, filling disks and
/// starving the server. Thread-safe; the log callbacks run outside the lock.
/// </remarks>
/// <typeparam name="TDetail">What the log lines need to know about one occurrence.</typeparam>
internal sealed class IntervalLogThrottle<TDetail> : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Action<TDetail> _logFirst;
    private readonly Action<long, TimeSpan, TDetail> _logSummary;
    private readonly ITimer _timer;
    private TDetail _last = default!;
    private long _suppressed;
    private bool _running;
    private bool _disposed;

    /// <summary>Creates a throttle.</summary>
    /// <param name="interval">The shortest time between two lines of one run.</param>
    /// <param name="timeProvider">The clock of the intervals.</param>
    /// <param name="logFirst">Logs an occurrence in full: the first of a run.</param>
    /// <param name="logSummary">Logs the number of occurrences counted in an interval, the interval, and the last one's detail.</param>
    public IntervalLogThrottle(TimeSpan interval, TimeProvider timeProvider, Action<TDetail> logFirst, Action<long, TimeSpan, TDetail> logSummary)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(interval, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Interval = interval;
        _logFirst = logFirst;
        _logSummary = logSummary;

        // A long-lived timer must not keep its creator's execution context (its AsyncLocals) alive.
        if (ExecutionContext.IsFlowSuppressed())
        {
            _timer = CreateTimer(timeProvider);
        }
        else
        {
            using (ExecutionContext.SuppressFlow())
            {
                _timer = CreateTimer(timeProvider);
            }
        }
    }

    /// <summary>The shortest time between two lines of one run.</summary>
    public TimeSpan Interval { get; }

    /// <summary>Records one occurrence: logged now if it starts a run, else counted for the interval's summary.</summary>
    /// <param name="detail">What the log line needs.</param>
    public void Record(TDetail detail)
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            if (_running)
            {
                _suppressed++;
                _last = detail;
                return;
            }

            _running = true;
            _timer.Change(Interval, Timeout.InfiniteTimeSpan);
        }

        _logFirst(detail);
    }

    /// <summary>Stops the timer and logs the summary of the occurrences not yet reported, if any.</summary>
    public void Dispose()
    {
        long count;
        TDetail last;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _timer.Dispose();
            (count, last) = TakeSuppressed();
        }

        if (count > 0)
        {
            _logSummary(count, Interval, last);
        }
    }

    private void OnIntervalEnd()
    {
        long count;
        TDetail last;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            (count, last) = TakeSuppressed();
            if (count == 0)
            {
                // A quiet interval ends the run.
                _running = false;
                return;
            }

            // Still happening: keep counting for one more interval.
            _timer.Change(Interval, Timeout.InfiniteTimeSpan);
        }

        _logSummary(count, Interval, last);
    }

    private ITimer CreateTimer(TimeProvider timeProvider)
        => timeProvider.CreateTimer(static state => ((IntervalLogThrottle<TDetail>)state!).OnIntervalEnd(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    private (long Count, TDetail Last) TakeSuppressed()
    {
        var result = (_suppressed, _last);
        _suppressed = 0;
        _last = default!;
        return result;
    }
}
