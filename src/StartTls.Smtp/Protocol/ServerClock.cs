namespace StartTls.Smtp.Protocol;

/// <summary>
/// One server's clock: deadlines are <see cref="TimeProvider.GetTimestamp"/> values, so that tests drive every
/// timeout with a fake <see cref="TimeProvider"/> and production pays one monotonic clock read per deadline.
/// </summary>
internal sealed class ServerClock(TimeProvider time)
{
    /// <summary>The clock of a server built without one.</summary>
    public static readonly ServerClock System = new(TimeProvider.System);

    /// <summary>The provider behind the clock (for timers and cancellation sources).</summary>
    public TimeProvider Time { get; } = time;

    /// <summary>Now, as a timestamp.</summary>
    public long Now => Time.GetTimestamp();

    /// <summary>The timestamp <paramref name="timeout"/> from now (rounded up, so a deadline never fires early).</summary>
    public long After(TimeSpan timeout) => Now + ToTicks(timeout);

    /// <summary>The time left until <paramref name="deadline"/>, zero once it has passed.</summary>
    public TimeSpan Until(long deadline)
    {
        var left = deadline - Now;
        return left <= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds((double)left / Time.TimestampFrequency);
    }

    /// <summary>A duration in this clock's timestamp units.</summary>
    public long ToTicks(TimeSpan duration) => (long)Math.Ceiling(duration.TotalSeconds * Time.TimestampFrequency);
}
