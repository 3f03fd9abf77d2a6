namespace StartTls.Smtp.Protocol;

/// <summary>
/// Something with a deadline that a <see cref="DeadlineHeartbeat"/> watches: an alarm (a timestamp of
/// the server's <see cref="ServerClock"/>) and the links of the heartbeat's list, all in the object itself, so
/// that watching a connection costs no object of its own.
/// </summary>
internal abstract class HeartbeatMember
{
    private long _alarm = long.MaxValue;
    private long _stressAlarm = long.MaxValue;

    /// <summary>The neighbours in the heartbeat's list; read and written under the heartbeat's lock only.</summary>
    internal HeartbeatMember? Previous { get; set; }

    /// <inheritdoc cref="Previous"/>
    internal HeartbeatMember? Next { get; set; }

    /// <summary>Whether the member is in a heartbeat's list; under the heartbeat's lock only.</summary>
    internal bool IsRegistered { get; set; }

    /// <summary>Called once per armed alarm, on the heartbeat's thread, soon after the alarm time has passed.</summary>
    internal abstract void OnDeadline();

    /// <summary>
    /// True once, for the tick that finds the alarm passed (or, while the server is <paramref name="stressed"/>, the
    /// stress alarm): that alarm is disarmed at the same time.
    /// </summary>
    internal bool TryTrigger(long now, bool stressed = false)
    {
        if (stressed)
        {
            var stressAlarm = Volatile.Read(ref _stressAlarm);
            if (stressAlarm <= now && Interlocked.CompareExchange(ref _stressAlarm, long.MaxValue, stressAlarm) == stressAlarm)
            {
                return true;
            }
        }

        var alarm = Volatile.Read(ref _alarm);

        // The exchange loses when the alarm was moved meanwhile: the new time is then watched instead.
        return alarm <= now && Interlocked.CompareExchange(ref _alarm, long.MaxValue, alarm) == alarm;
    }

    /// <summary>Sets (or moves) the alarm to a <see cref="ServerClock"/> timestamp; each setting fires at most once.</summary>
    protected void ArmAlarm(long tickCount) => ArmAlarm(tickCount, long.MaxValue);

    /// <summary>
    /// Sets (or moves) the alarm, and the earlier alarm that applies only while the server is under stress
    /// (<see cref="long.MaxValue"/> for none).
    /// </summary>
    protected void ArmAlarm(long tickCount, long stressTickCount)
    {
        Volatile.Write(ref _stressAlarm, stressTickCount);
        Volatile.Write(ref _alarm, tickCount);
    }
}
