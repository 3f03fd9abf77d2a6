using Microsoft.Extensions.Logging;

namespace StartTls.Smtp.Storage;

/// <summary>
/// Removes the files in a Maildir's <c>tmp/</c> that were last written longer ago than a maximum age (36 hours by the
/// Maildir convention), once when created and then periodically. Such files are left by a crash (of this server or of
/// another program delivering into the same Maildir) between the creation of the file and its move into <c>new/</c>.
/// </summary>
/// <remarks>
/// A delivery of this server in progress is never removed: its file is created when DATA begins, written to as the
/// content arrives and moved out of <c>tmp/</c> once the content has ended and been synced. The content may take at
/// most the server's <c>DataTimeout</c>, which is at most one hour, and the maximum age is at least two hours, so a file
/// of a running delivery is always younger than the maximum age. Even if it were not (the clock jumped forward by more
/// than the maximum age), nothing acknowledged would be lost: the delivery's move into <c>new/</c> would fail, and the
/// client would get a 4xx reply and send the message again.
/// </remarks>
internal sealed partial class MaildirTmpCleaner : IDisposable
{
    private static readonly EnumerationOptions Everything = new()
    {
        AttributesToSkip = 0, // hidden files (dot files on Unix) are left over all the same
        IgnoreInaccessible = true,
        RecurseSubdirectories = false,
    };

    private readonly string _tmpDirectory;
    private readonly TimeSpan _maxAge;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly ITimer _timer;
    private long _removed;
    private int _sweeping;

    /// <summary>Creates the cleaner: sweeps <paramref name="tmpDirectory"/> now, then every <paramref name="interval"/>.</summary>
    /// <param name="tmpDirectory">The Maildir's <c>tmp/</c>; it must exist.</param>
    /// <param name="maxAge">Files last written longer ago than this are removed.</param>
    /// <param name="interval">The time between two sweeps.</param>
    /// <param name="timeProvider">Tells the time and runs the periodic timer.</param>
    /// <param name="logger">Where to log what was removed, and what could not be.</param>
    public MaildirTmpCleaner(string tmpDirectory, TimeSpan maxAge, TimeSpan interval, TimeProvider timeProvider, ILogger logger)
    {
        _tmpDirectory = tmpDirectory;
        _maxAge = maxAge;
        _timeProvider = timeProvider;
        _logger = logger;
        Sweep();

        // The timer holds the cleaner weakly: a store that is dropped without being disposed does not stay alive (and
        // its timer running) because of its own timer.
        _timer = timeProvider.CreateTimer(
            static state =>
            {
                if (((WeakReference<MaildirTmpCleaner>)state!).TryGetTarget(out var cleaner))
                {
                    cleaner.Sweep();
                }
            },
            new WeakReference<MaildirTmpCleaner>(this),
            interval,
            interval);
    }

    /// <summary>The number of files removed so far.</summary>
    public long Removed => Interlocked.Read(ref _removed);

    /// <summary>
    /// Removes the files older than the maximum age now; never throws (it runs on a timer thread). A sweep that finds
    /// another still running does nothing.
    /// </summary>
    /// <returns>The number of files removed.</returns>
    public int Sweep()
    {
        if (Interlocked.Exchange(ref _sweeping, 1) == 1)
        {
            return 0;
        }

        try
        {
            return SweepOnce();
        }
#pragma warning disable CA1031 // On a timer thread an exception would end the process.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            try
            {
                LogSweepFailed(_logger, ex, _tmpDirectory);
            }
#pragma warning disable CA1031 // Not even a throwing logger may end the process.
            catch (Exception)
#pragma warning restore CA1031
            {
            }

            return 0;
        }
        finally
        {
            Volatile.Write(ref _sweeping, 0);
        }
    }

    /// <summary>Stops the periodic sweeps.</summary>
    public void Dispose() => _timer.Dispose();

    private int SweepOnce()
    {
        // File times come from the system clock; the time provider is the system clock too, except in tests.
        var now = _timeProvider.GetUtcNow().UtcDateTime;
        var removed = 0;
        var failed = 0;
        Exception? firstFailure = null;
        foreach (var file in new DirectoryInfo(_tmpDirectory).EnumerateFiles("*", Everything))
        {
            if (now - file.LastWriteTimeUtc <= _maxAge)
            {
                continue;
            }

            try
            {
                file.Delete();
                removed++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                failed++;
                firstFailure ??= ex;
            }
        }

        if (removed > 0)
        {
            Interlocked.Add(ref _removed, removed);
            LogRemoved(_logger, removed, _maxAge, _tmpDirectory);
        }

        if (firstFailure is not null)
        {
            LogRemoveFailed(_logger, firstFailure, failed, _tmpDirectory);
        }

        return removed;
    }

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Removed {Count} stale file(s), last written more than {MaxAge} ago, from {TmpPath}")]
    private static partial void LogRemoved(ILogger logger, int count, TimeSpan maxAge, string tmpPath);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Warning, Message = "Could not remove {Count} old file(s) from {TmpPath}")]
    private static partial void LogRemoveFailed(ILogger logger, Exception exception, int count, string tmpPath);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Warning, Message = "Cleaning {TmpPath} failed")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception, string tmpPath);
}
