namespace StartTls.Smtp.Protocol;

/// <summary>
/// Something with a deadline that a <see cref="DeadlineHeartbeat"/> watches: an alarm (a
/// <see cref="Environment.TickCount64"/> value) and the links of the heartbeat's list, all in the object itself, so
/// that watching a connection costs no object of its own.
/// </summary>
internal abstract class HeartbeatMember
{
    private long _alarm = long.MaxValue;

    /// <summary>The neighbours in the heartbeat's list; read and written under the heartbeat's lock only.</summary>
    internal HeartbeatMember? Previous { get; set; }

    /// <inheritdoc cref="Previous"/>
    internal HeartbeatMember? Next { get; set; }

    /// <summary>Whether the member is in a heartbeat's list; under the heartbeat's lock only.</summary>
    internal bool IsRegistered { get; set; }

    /// <summary>Called once per armed alarm, on the heartbeat's thread, soon after the alarm time has passed.</summary>
    internal abstract void OnDeadline();

    /// <summary>True once, for the tick that finds the alarm passed: the alarm is disarmed at the same time.</summary>
    internal bool TryTrigger(long now)
    {
        var alarm = Volatile.Read(ref _alarm);

        // The exchange loses when the alarm was moved meanwhile: the new time is then watched instead.
        return alarm <= now && Interlocked.CompareExchange(ref _alarm, long.MaxValue, alarm) == alarm;
    }

    /// <summary>Sets (or moves) the alarm to a <see cref="Environment.TickCount64"/> value; each setting fires at most once.</summary>
    protected void ArmAlarm(long tickCount) => Volatile.Write(ref _alarm, tickCount);
}
