using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.Protocol;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// A server's deadline heartbeat, on a fake clock: an alarm fires once, never early, at most a period late; a moved
/// alarm is the one watched; stress alarms count only under stress; a failing member is reported and does not stop
/// the others; the period follows the shortest timeout registered and the timer stops once nothing is registered.
/// </summary>
public sealed class DeadlineHeartbeatTests
{
    private readonly FakeTimeProvider _time = new();
    private readonly ServerClock _clock;

    public DeadlineHeartbeatTests() => _clock = new ServerClock(_time);

    [Fact]
    public void A_passed_alarm_fires_once_and_is_then_disarmed()
    {
        using var heartbeat = new DeadlineHeartbeat(_clock);
        var probe = new Probe();
        heartbeat.Register(probe, TimeSpan.FromMinutes(5));
        probe.Arm(_clock.Now - 1);

        heartbeat.Tick();
        heartbeat.Tick();

        probe.Fired.Should().Be(1);
        heartbeat.Unregister(probe);
    }

    [Fact]
    public void An_alarm_in_the_future_does_not_fire_and_a_moved_alarm_replaces_the_old_one()
    {
        using var heartbeat = new DeadlineHeartbeat(_clock);
        var probe = new Probe();
        heartbeat.Register(probe, TimeSpan.FromMinutes(5));
        probe.Arm(_clock.After(TimeSpan.FromMinutes(1)));
        heartbeat.Tick();
        probe.Fired.Should().Be(0);

        probe.Arm(_clock.Now - 1);
        heartbeat.Tick();
        probe.Fired.Should().Be(1);

        // Re-armed after firing: fires again.
        probe.Arm(_clock.Now - 1);
        heartbeat.Tick();
        probe.Fired.Should().Be(2);
        heartbeat.Unregister(probe);
    }

    [Fact]
    public void An_unregistered_member_never_fires_and_the_list_keeps_the_others()
    {
        using var heartbeat = new DeadlineHeartbeat(_clock);
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
            probe.Arm(_clock.Now - 1);
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
    public void A_failing_member_is_reported_and_does_not_stop_the_others()
    {
        var reported = new List<Exception>();
        using var heartbeat = new DeadlineHeartbeat(_clock, reported.Add);
        var failing = new Probe { Throw = true };
        var other = new Probe();
        heartbeat.Register(other, TimeSpan.FromMinutes(5));
        heartbeat.Register(failing, TimeSpan.FromMinutes(5));
        failing.Arm(_clock.Now - 1);
        other.Arm(_clock.Now - 1);

        heartbeat.Tick();

        failing.Fired.Should().Be(1);
        other.Fired.Should().Be(1);
        reported.Should().ContainSingle().Which.Should().BeOfType<InvalidOperationException>();
        heartbeat.Unregister(failing);
        heartbeat.Unregister(other);
    }

    [Fact]
    public void A_stress_alarm_fires_only_while_the_server_is_under_stress()
    {
        var stressed = false;
        using var heartbeat = new DeadlineHeartbeat(_clock, underStress: () => stressed);
        var probe = new Probe();
        heartbeat.Register(probe, TimeSpan.FromMinutes(5));
        probe.Arm(_clock.After(TimeSpan.FromMinutes(5)), _clock.After(TimeSpan.FromSeconds(10)));

        _time.Advance(TimeSpan.FromSeconds(11));
        heartbeat.Tick();
        probe.Fired.Should().Be(0, "the stress deadline has passed, but the server is not under stress");

        stressed = true;
        heartbeat.Tick();
        probe.Fired.Should().Be(1);
        heartbeat.Unregister(probe);
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
        using var heartbeat = new DeadlineHeartbeat(_clock);
        heartbeat.Period.Should().Be(Timeout.InfiniteTimeSpan, "nothing registered, nothing ticks");
        var slow = new Probe();
        var fast = new Probe();
        heartbeat.Register(slow, TimeSpan.FromMinutes(5));
        heartbeat.Period.Should().Be(TimeSpan.FromSeconds(1));
        heartbeat.Register(fast, TimeSpan.FromMilliseconds(400));
        heartbeat.Period.Should().Be(TimeSpan.FromMilliseconds(100));

        heartbeat.Unregister(fast);
        heartbeat.Unregister(slow);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        heartbeat.Period.Should().Be(Timeout.InfiniteTimeSpan, "the first tick that finds the list empty stops the timer");

        heartbeat.Register(slow, TimeSpan.FromMinutes(5));
        heartbeat.Period.Should().Be(TimeSpan.FromSeconds(1), "the period starts again from the members registered since");
        heartbeat.Unregister(slow);
    }

    [Fact]
    public void The_timer_fires_a_passed_alarm_never_early_and_within_a_period()
    {
        using var heartbeat = new DeadlineHeartbeat(_clock);
        var probe = new Probe();
        heartbeat.Register(probe, TimeSpan.FromMilliseconds(200)); // a 50 ms period
        probe.Arm(_clock.After(TimeSpan.FromMilliseconds(120)));

        _time.Advance(TimeSpan.FromMilliseconds(100));
        probe.Fired.Should().Be(0, "two ticks have run, but the alarm is 20 ms away");

        _time.Advance(TimeSpan.FromMilliseconds(50));
        probe.Fired.Should().Be(1, "the first tick after the alarm fires it");

        _time.Advance(TimeSpan.FromSeconds(5));
        probe.Fired.Should().Be(1, "an alarm fires once");
        heartbeat.Unregister(probe);
    }

    private sealed class Probe : HeartbeatMember
    {
        private int _fired;

        public int Fired => Volatile.Read(ref _fired);

        public bool Throw { get; init; }

        public void Arm(long timestamp) => ArmAlarm(timestamp);

        public void Arm(long timestamp, long stressTimestamp) => ArmAlarm(timestamp, stressTimestamp);

        internal override void OnDeadline()
        {
            Interlocked.Increment(ref _fired);
            if (Throw)
            {
                throw new InvalidOperationException("A failing member.");
            }
        }
    }
}
