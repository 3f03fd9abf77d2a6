using StartTls.Smtp.Protocol;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// The shared deadline heartbeat: an alarm fires once, never early, at most a period late; a moved alarm is the one
/// watched; the period follows the shortest timeout registered and the timer stops once nothing is registered.
/// </summary>
public sealed class DeadlineHeartbeatTests
{
    [Fact]
    public void A_passed_alarm_fires_once_and_is_then_disarmed()
    {
        using var heartbeat = new DeadlineHeartbeat();
        var probe = new Probe();
        heartbeat.Register(probe, TimeSpan.FromMinutes(5));
        probe.Arm(Environment.TickCount64 - 1);

        heartbeat.Tick();
        heartbeat.Tick();

        probe.Fired.Should().Be(1);
        heartbeat.Unregister(probe);
    }

    [Fact]
    public void An_alarm_in_the_future_does_not_fire_and_a_moved_alarm_replaces_the_old_one()
    {
        using var heartbeat = new DeadlineHeartbeat();
        var probe = new Probe();
        heartbeat.Register(probe, TimeSpan.FromMinutes(5));
        probe.Arm(Environment.TickCount64 + 60_000);
        heartbeat.Tick();
        probe.Fired.Should().Be(0);

        probe.Arm(Environment.TickCount64 - 1);
        heartbeat.Tick();
        probe.Fired.Should().Be(1);

        // Re-armed after firing: fires again.
        probe.Arm(Environment.TickCount64 - 1);
        heartbeat.Tick();
        probe.Fired.Should().Be(2);
        heartbeat.Unregister(probe);
    }

    [Fact]
    public void An_unregistered_member_never_fires_and_the_list_keeps_the_others()
    {
        using var heartbeat = new DeadlineHeartbeat();
        var first = new Probe();
        var middle = new Probe();
        var last = new Probe();
        heartbeat.Register(first, TimeSpan.FromMinutes(5));
        heartbeat.Register(middle, TimeSpan.FromMinutes(5));
        heartbeat.Register(last, TimeSpan.FromMinutes(5));
        heartbeat.Register(middle, TimeSpan.FromMinutes(5));
        heartbeat.Count.Should().Be(3, "registering twice does nothing");

        heartbeat.Unregister(middle);
        heartbeat.Unregister(middle);
        heartbeat.Count.Should().Be(2);
        foreach (var probe in new[] { first, middle, last })
        {
            probe.Arm(Environment.TickCount64 - 1);
        }

        heartbeat.Tick();
        first.Fired.Should().Be(1);
        middle.Fired.Should().Be(0);
        last.Fired.Should().Be(1);
        heartbeat.Unregister(first);
        heartbeat.Unregister(last);
        heartbeat.Count.Should().Be(0);
    }

    [Fact]
    public void A_failing_member_does_not_stop_the_others()
    {
        using var heartbeat = new DeadlineHeartbeat();
        var failing = new Probe { Throw = true };
        var other = new Probe();
        heartbeat.Register(other, TimeSpan.FromMinutes(5));
        heartbeat.Register(failing, TimeSpan.FromMinutes(5));
        failing.Arm(Environment.TickCount64 - 1);
        other.Arm(Environment.TickCount64 - 1);

        heartbeat.Tick();

        failing.Fired.Should().Be(1);
        other.Fired.Should().Be(1);
        heartbeat.Unregister(failing);
        heartbeat.Unregister(other);
    }

    [Theory]
    [InlineData(300_000, 1_000)]
    [InlineData(4_000, 1_000)]
    [InlineData(2_000, 500)]
    [InlineData(300, 75)]
    [InlineData(20, 10)]
    public void The_period_is_a_quarter_of_the_shortest_timeout_between_10_ms_and_1_s(int timeoutMs, int periodMs)
    {
        DeadlineHeartbeat.PeriodFor(TimeSpan.FromMilliseconds(timeoutMs)).Should().Be(TimeSpan.FromMilliseconds(periodMs));
    }

    [Fact]
    public void The_period_shrinks_for_a_short_timeout_and_the_timer_stops_once_the_list_is_empty()
    {
        using var heartbeat = new DeadlineHeartbeat();
        heartbeat.Period.Should().Be(Timeout.InfiniteTimeSpan, "nothing registered, nothing ticks");
        var slow = new Probe();
        var fast = new Probe();
        heartbeat.Register(slow, TimeSpan.FromMinutes(5));
        heartbeat.Period.Should().Be(TimeSpan.FromSeconds(1));
        heartbeat.Register(fast, TimeSpan.FromMilliseconds(400));
        heartbeat.Period.Should().Be(TimeSpan.FromMilliseconds(100));

        heartbeat.Unregister(fast);
        heartbeat.Unregister(slow);
        heartbeat.Tick();

        // The timer's own tick may have been running at the same moment (then ours was skipped): it stops it as well.
        SpinWait.SpinUntil(() => heartbeat.Period == Timeout.InfiniteTimeSpan, TimeSpan.FromSeconds(2));
        heartbeat.Period.Should().Be(Timeout.InfiniteTimeSpan, "the first tick that finds the list empty stops the timer");

        heartbeat.Register(slow, TimeSpan.FromMinutes(5));
        heartbeat.Period.Should().Be(TimeSpan.FromSeconds(1), "the period starts again from the members registered since");
        heartbeat.Unregister(slow);
    }

    [Fact]
    public async Task The_timer_fires_a_passed_alarm_never_early_and_within_a_period()
    {
        using var heartbeat = new DeadlineHeartbeat();
        var probe = new Probe();
        heartbeat.Register(probe, TimeSpan.FromMilliseconds(200));
        var armedAt = Environment.TickCount64;
        probe.Arm(armedAt + 150);

        var firedAt = await probe.FiredAt.Task.WaitAsync(TimeSpan.FromSeconds(5));

        (firedAt - armedAt).Should().BeGreaterThanOrEqualTo(150).And.BeLessThan(150 + 50 + 1_000, "one 50 ms period late at most, with room for a busy machine");
        heartbeat.Unregister(probe);
    }

    private sealed class Probe : HeartbeatMember
    {
        private int _fired;

        public int Fired => Volatile.Read(ref _fired);

        public bool Throw { get; init; }

        public TaskCompletionSource<long> FiredAt { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Arm(long tickCount) => ArmAlarm(tickCount);

        internal override void OnDeadline()
        {
            Interlocked.Increment(ref _fired);
            FiredAt.TrySetResult(Environment.TickCount64);
            if (Throw)
            {
                throw new InvalidOperationException("A failing member.");
            }
        }
    }
}
