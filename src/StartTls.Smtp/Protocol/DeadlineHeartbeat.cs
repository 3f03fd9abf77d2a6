namespace StartTls.Smtp.Protocol;

/// <summary>
/// One timer for the deadlines of every connection of a server: each connection keeps its alarm in a field
/// (<see cref="HeartbeatMember"/>), and the heartbeat, ticking on the server's <see cref="TimeProvider"/> while any
/// member is registered, calls <see cref="HeartbeatMember.OnDeadline"/> on each one whose alarm has passed.
/// </summary>
/// <remarks>
/// A <see cref="Timer"/> per connection cost ~150 bytes per idle session and a timer-queue lock for every command;
/// moving a deadline here is one field write. A deadline fires at most one period late, never early. The period is
/// 1 second, and a quarter of the shortest timeout of the members registered since the list was last empty when that
/// is shorter (at least 10 ms): tight configurations and tests keep their accuracy, defaults cost one tick a second.
/// </remarks>
internal sealed class DeadlineHeartbeat : IDisposable
{
    /// <summary>The longest period between two ticks.</summary>
    public static readonly TimeSpan MaxPeriod = TimeSpan.FromSeconds(1);

    /// <summary>The shortest period between two ticks.</summary>
    public static readonly TimeSpan MinPeriod = TimeSpan.FromMilliseconds(10);

    private readonly Lock _lock = new();

    // Serialises timer changes, which are never made under _lock: a timer's Change may wait for the timer's own
    // callback (a test clock runs callbacks under its lock), and the callback takes _lock.
    private readonly Lock _timerGate = new();
    private readonly List<HeartbeatMember> _due = [];
    private readonly ServerClock _clock;
    private readonly Action<Exception>? _onFailure;
    private readonly Func<bool>? _underStress;
    private readonly ITimer _timer;
    private HeartbeatMember? _head;
    private int _count;
    private long _periodMs;
    private bool _running;
    private int _ticking;

    /// <param name="clock">The server's clock: alarms are its timestamps, and its provider runs the timer.</param>
    /// <param name="onFailure">Told of a member whose deadline callback threw; the other members still get theirs.</param>
    /// <param name="underStress">Read once per tick: while it says true, the members' stress alarms count too.</param>
    public DeadlineHeartbeat(ServerClock clock, Action<Exception>? onFailure = null, Func<bool>? underStress = null)
    {
        _clock = clock;
        _onFailure = onFailure;
        _underStress = underStress;

        // A timer shared by every connection must not keep the first caller's execution context (its AsyncLocals) alive.
        using (ExecutionContext.SuppressFlow())
        {
            _timer = clock.Time.CreateTimer(static state => ((DeadlineHeartbeat)state!).Tick(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _periodMs = (long)MaxPeriod.TotalMilliseconds;
    }

    /// <summary>The members registered now.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>The period between ticks now; <see cref="Timeout.InfiniteTimeSpan"/> while stopped.</summary>
    public TimeSpan Period
    {
        get
        {
            lock (_lock)
            {
                return _running ? TimeSpan.FromMilliseconds(_periodMs) : Timeout.InfiniteTimeSpan;
            }
        }
    }

    /// <summary>The tick period for a member whose shortest timeout is <paramref name="shortestTimeout"/>.</summary>
    public static TimeSpan PeriodFor(TimeSpan shortestTimeout)
    {
        var quarter = shortestTimeout / 4;
        return quarter >= MaxPeriod ? MaxPeriod : quarter <= MinPeriod ? MinPeriod : quarter;
    }

    /// <summary>
    /// Starts watching <paramref name="member"/>; the ticks come at least as often as its shortest timeout needs.
    /// Registering a member twice does nothing.
    /// </summary>
    public void Register(HeartbeatMember member, TimeSpan shortestTimeout)
    {
        var period = (long)Math.Ceiling(PeriodFor(shortestTimeout).TotalMilliseconds);
        var changed = false;
        lock (_lock)
        {
            if (member.IsRegistered)
            {
                return;
            }

            member.IsRegistered = true;
            member.Previous = null;
            member.Next = _head;
            if (_head is not null)
            {
                _head.Previous = member;
            }

            _head = member;
            _count++;
            if (!_running || period < _periodMs)
            {
                _periodMs = period;
                _running = true;
                changed = true;
            }
        }

        if (changed)
        {
            ApplyTimer();
        }
    }

    /// <summary>Stops watching <paramref name="member"/>; a member that is not registered is ignored.</summary>
    public void Unregister(HeartbeatMember member)
    {
        lock (_lock)
        {
            if (!member.IsRegistered)
            {
                return;
            }

            if (member.Previous is null)
            {
                _head = member.Next;
            }
            else
            {
                member.Previous.Next = member.Next;
            }

            if (member.Next is not null)
            {
                member.Next.Previous = member.Previous;
            }

            member.Previous = null;
            member.Next = null;
            member.IsRegistered = false;
            _count--;

            // The timer stops at the next tick that finds the list empty, not here: a server whose connections come
            // and go one at a time would otherwise restart it for each one.
        }
    }

    /// <inheritdoc />
    public void Dispose() => _timer.Dispose();

    /// <summary>One tick: finds the members whose alarm has passed and tells them, outside the lock.</summary>
    internal void Tick()
    {
        if (Interlocked.Exchange(ref _ticking, 1) != 0)
        {
            // The previous tick is still running (a very large list or a stalled thread pool): skip this one.
            return;
        }

        var stopped = false;
        try
        {
            var now = _clock.Now;
            var stressed = _underStress?.Invoke() == true;
            lock (_lock)
            {
                if (_count == 0)
                {
                    if (_running)
                    {
                        _running = false;
                        _periodMs = (long)MaxPeriod.TotalMilliseconds;
                        stopped = true;
                    }

                    return;
                }

                for (var member = _head; member is not null; member = member.Next)
                {
                    if (member.TryTrigger(now, stressed))
                    {
                        _due.Add(member);
                    }
                }
            }

            // Outside the lock: a member's reaction may complete I/O inline, and it must never block registrations.
            foreach (var member in _due)
            {
                try
                {
                    member.OnDeadline();
                }
#pragma warning disable CA1031 // One connection's failure must not stop the deadlines of the others; it is reported, not swallowed.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    _onFailure?.Invoke(ex);
                }
            }
        }
        finally
        {
            _due.Clear();
            Volatile.Write(ref _ticking, 0);
            if (stopped)
            {
                // Not from the timer's own callback: queued, it applies whatever state is current by then.
                ThreadPool.UnsafeQueueUserWorkItem(static self => self.ApplyTimer(), this, preferLocal: false);
            }
        }
    }

    /// <summary>Makes the timer match the current state (running at the period, or stopped); never under _lock.</summary>
    private void ApplyTimer()
    {
        lock (_timerGate)
        {
            TimeSpan period;
            lock (_lock)
            {
                period = _running ? TimeSpan.FromMilliseconds(_periodMs) : Timeout.InfiniteTimeSpan;
            }

            _timer.Change(period, period);
        }
    }
}
