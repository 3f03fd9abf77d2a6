using System.Buffers;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace StartTls.Smtp.Storage;

/// <summary>
/// Stores each message as one file in a Maildir (https://cr.yp.to/proto/maildir.html), durably: the message is
/// written to <c>tmp/</c>, fsynced, moved into <c>new/</c>, and <c>new/</c> itself is fsynced, before the
/// server is allowed to answer 250. A failed or aborted message leaves nothing behind, so a crash or a dropped
/// connection never leaves a partial message in <c>new/</c>.
/// </summary>
/// <remarks>
/// <para>
/// The content is streamed to disk in 64 KiB blocks; it is never held whole in memory. On Unix the directories are
/// created with mode 0700 and the files with mode 0600 (before the umask), because they hold other people's mail. Each
/// file is named in the usual form <c>{seconds}.M{microseconds}P{pid}Q{counter}.{host}</c>, and that name is the queue
/// id in the reply (<c>250 2.0.0 OK queued as …</c>).
/// </para>
/// <para>
/// The waits for the disk run on a few dedicated threads (started on demand, at most 64), never on the thread pool,
/// and concurrent messages share them: the fsyncs of many files run at once (the block layer merges their cache
/// flushes; a journaling file system commits them together), and one fsync of <c>new/</c> covers every message moved
/// into it before that fsync started (group commit). A failed fsync fails exactly the messages it covered: nothing of
/// them is left in <c>tmp/</c> or <c>new/</c>.
/// </para>
/// <para>
/// A failure of the store's own disk work (creating, writing, syncing or moving the file) is logged here, once, and
/// answered with a reply instead of an exception: <c>452 4.3.1</c> (RFC 3463: mail system full) when the file system
/// is full or the quota is used up, logged as a warning without a stack trace; <c>451 4.3.0</c> otherwise, logged as an
/// error with the exception. The client retries later either way. An aborted or cancelled message, and a failure to
/// read the content, still propagate as exceptions, and the server logs those.
/// </para>
/// <para>
/// Files in <c>tmp/</c> older than <see cref="MaildirStoreOptions.TmpMaxAge"/> (36 hours) are removed when the store is
/// created and every <see cref="MaildirStoreOptions.TmpCleanupInterval"/>; a crash leaves such files behind. Dispose the
/// store to stop that timer (the hosting extensions register it so that the container disposes it).
/// </para>
/// </remarks>
public sealed partial class MaildirMessageStore : IMessageStore, IDisposable
{
    private const int BufferSize = 64 * 1024;
    private const int MaxSyncThreads = 64;
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode NewFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private static readonly TimeSpan SyncThreadIdleTimeout = TimeSpan.FromSeconds(30);
    private static readonly FileStreamOptions TmpFileOptions = CreateFileOptions();
    private static readonly TimeSpan MinTmpMaxAge = TimeSpan.FromHours(2);
    private static readonly TimeSpan MinTmpCleanupInterval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MaxTmpCleanupInterval = TimeSpan.FromDays(1);
    private static readonly SmtpReply InsufficientStorage = new(452, "4.3.1", "Insufficient system storage, try again later");

    private readonly string _tmpDirectory;
    private readonly string _newDirectory;
    private readonly bool _addTraceHeaders;
    private readonly string _serverName;
    private readonly string _escapedHostName;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly SyncWorkerPool _syncWorkers;
    private readonly MaildirTmpCleaner _tmpCleaner;
    private int _directorySyncWarned;

    /// <summary>Creates the store, and the Maildir's <c>tmp</c>, <c>new</c> and <c>cur</c> directories if missing.</summary>
    /// <param name="options">Where and how to store; read once, here.</param>
    /// <param name="logger">Where to log stored and failed messages (never their content).</param>
    /// <exception cref="ArgumentException"><see cref="MaildirStoreOptions.Path"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">
    /// <see cref="MaildirStoreOptions.TmpMaxAge"/> is under 2 hours, or <see cref="MaildirStoreOptions.TmpCleanupInterval"/>
    /// is not between 1 minute and 1 day.
    /// </exception>
    /// <exception cref="IOException">A directory could not be created.</exception>
    public MaildirMessageStore(MaildirStoreOptions options, ILogger<MaildirMessageStore>? logger = null)
        : this(options, logger, TimeProvider.System)
    {
    }

    internal MaildirMessageStore(MaildirStoreOptions options, ILogger<MaildirMessageStore>? logger, TimeProvider timeProvider, DiskSync? disk = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Path, $"{nameof(options)}.{nameof(options.Path)}");
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.TmpMaxAge, MinTmpMaxAge, $"{nameof(options)}.{nameof(options.TmpMaxAge)}");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.TmpCleanupInterval, MinTmpCleanupInterval, $"{nameof(options)}.{nameof(options.TmpCleanupInterval)}");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.TmpCleanupInterval, MaxTmpCleanupInterval, $"{nameof(options)}.{nameof(options.TmpCleanupInterval)}");

        RootPath = Path.GetFullPath(options.Path);
        _tmpDirectory = Path.Combine(RootPath, "tmp");
        _newDirectory = Path.Combine(RootPath, "new");
        _addTraceHeaders = options.AddTraceHeaders;
        _serverName = string.IsNullOrWhiteSpace(options.ServerName) ? Environment.MachineName : options.ServerName.Trim();
        _escapedHostName = MaildirFileName.EscapeHostName(Environment.MachineName);
        _logger = logger ?? (ILogger)NullLogger<MaildirMessageStore>.Instance;
        _timeProvider = timeProvider;
        Disk = disk ?? DiskSync.Default;
        _syncWorkers = new SyncWorkerPool(MaxSyncThreads, SyncThreadIdleTimeout, "Maildir sync");
        if (options.FsyncDirectory && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
        {
            DirectoryBatcher = new DirectorySyncBatcher(_newDirectory, Disk, WarnDirectorySyncUnsupported);
        }

        CreateDirectory(RootPath);
        CreateDirectory(_tmpDirectory);
        CreateDirectory(_newDirectory);
        CreateDirectory(Path.Combine(RootPath, "cur"));
        _tmpCleaner = new MaildirTmpCleaner(_tmpDirectory, options.TmpMaxAge, options.TmpCleanupInterval, timeProvider, _logger);
    }

    /// <summary>The full path of the Maildir's root.</summary>
    internal string RootPath { get; }

    /// <summary>The file and directory sync calls (replaced by tests).</summary>
    internal DiskSync Disk { get; }

    /// <summary>The group sync of <c>new/</c>; <see langword="null"/> when directories are not synced.</summary>
    internal DirectorySyncBatcher? DirectoryBatcher { get; }

    /// <summary>The number of fsyncs of <c>new/</c> so far.</summary>
    internal long DirectorySyncCount => DirectoryBatcher?.SyncCount ?? 0;

    /// <summary>The number of dedicated sync threads running now.</summary>
    internal int SyncThreadCount => _syncWorkers.ThreadCount;

    /// <summary>The number of stale files removed from <c>tmp/</c> since the store was created.</summary>
    internal long TmpFilesRemoved => _tmpCleaner.Removed;

    /// <inheritdoc />
    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(content);
        cancellationToken.ThrowIfCancellationRequested();

        var now = _timeProvider.GetUtcNow();
        var name = MaildirFileName.Create(now, _escapedHostName);
        var tmpPath = Path.Combine(_tmpDirectory, name);
        var newPath = Path.Combine(_newDirectory, name);

        FileStream? file = null;
        long size = 0;
        var readingContent = false;
        Exception? storeFailure = null;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            // Created here, as Maildir wants: the message is in tmp/ while it arrives. Creating is a quick system call
            // that does not wait for the disk; the waits (fsync) happen on the sync threads.
            file = CreateTmpFile(tmpPath);
            var filled = 0;
            if (_addTraceHeaders)
            {
                var headers = SmtpTraceHeaders.Build(session, envelope, _serverName, TimeZoneInfo.ConvertTime(now, _timeProvider.LocalTimeZone));
                if (headers.Length <= buffer.Length)
                {
                    headers.CopyTo(buffer, 0);
                    filled = headers.Length;
                }
                else
                {
                    file.Write(headers);
                }

                size += headers.Length;
            }

            // Gather reads (the content arrives in small network-sized pieces) into full blocks before writing. The
            // writes are synchronous: on Unix an asynchronous file write is the same write on a pool thread, plus a hop.
            while (true)
            {
                readingContent = true;
                var read = await content.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                readingContent = false;
                if (read == 0)
                {
                    break;
                }

                filled += read;
                size += read;
                if (filled == buffer.Length)
                {
                    file.Write(buffer, 0, filled);
                    filled = 0;
                }
            }

            cancellationToken.ThrowIfCancellationRequested();

            // The rest (the last block's write, fsync, move, group fsync of new/) runs on a sync thread. Not cancellable
            // from here: the delivery checks the token itself before the move, and the buffer must outlive its write.
            var delivery = new MaildirDelivery(this, tmpPath, newPath, file, buffer.AsMemory(0, filled), cancellationToken);
            _syncWorkers.Queue(delivery);
            file = null;
            await delivery.Completion.ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            if (file is not null)
            {
                // Failed before the hand-over; after it, the delivery cleans up.
                await file.DisposeAsync().ConfigureAwait(false);
                TryDelete(tmpPath);
            }

            if (!readingContent && ex is (IOException and not MessageAbortedException) or UnauthorizedAccessException)
            {
                // The store's own disk work failed: answered below, logged once there.
                storeFailure = ex;
            }
            else
            {
                // Aborted, cancelled, or the content could not be read: not the store's failure; whoever called it
                // logs what it has to.
                if (ex is MessageAbortedException or OperationCanceledException)
                {
                    LogAborted(_logger, session.Id, ex.Message);
                }

                throw;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        if (storeFailure is not null)
        {
            return Refuse(session, storeFailure);
        }

        LogStored(_logger, name, session.Id, size);
        return new SmtpReply(250, "2.0.0", $"OK queued as {name}");
    }

    /// <summary>Stops the periodic removal of stale files from <c>tmp/</c>. Messages being stored are not affected.</summary>
    public void Dispose() => _tmpCleaner.Dispose();

    /// <summary>Logs a failure of the store's own disk work and chooses the reply: 452 when there is no room, else 451.</summary>
    private SmtpReply Refuse(SmtpSession session, Exception failure)
    {
        if (DiskFull.Is(failure))
        {
            // Not a bug but a state of the machine: a warning, without a stack trace, for every message refused.
            LogDiskFull(_logger, session.Id, RootPath, failure.Message);
            return InsufficientStorage;
        }

        LogFailed(_logger, failure, session.Id, RootPath);
        return SmtpReply.TemporaryFailure;
    }

    /// <summary>Creates a new file for writing, with mode 0600 on Unix; fails if it exists.</summary>
    private static FileStream CreateTmpFile(string path) => new(path, TmpFileOptions);

    /// <summary>Deletes a file left by a failed delivery; logs (does not throw) when that fails.</summary>
    internal void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogDeleteFailed(_logger, ex, path);
        }
    }

    private static FileStreamOptions CreateFileOptions()
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.None,
            BufferSize = 0, // whole blocks are written at once
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = NewFileMode;
        }

        return options;
    }

    private void WarnDirectorySyncUnsupported()
    {
        if (Interlocked.Exchange(ref _directorySyncWarned, 1) == 0)
        {
            LogDirectorySyncUnsupported(_logger, _newDirectory);
        }
    }

    private static void CreateDirectory(string path)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, DirectoryMode);
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Stored message {FileName} from session {SessionId} ({Size} octets)")]
    private static partial void LogStored(ILogger logger, string fileName, string sessionId, long size);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "Message from session {SessionId} not stored: {Reason}")]
    private static partial void LogAborted(ILogger logger, string sessionId, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Error, Message = "Failed to store a message from session {SessionId} in {MaildirPath}; replied 451")]
    private static partial void LogFailed(ILogger logger, Exception exception, string sessionId, string maildirPath);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Could not delete {FilePath} after a failed delivery")]
    private static partial void LogDeleteFailed(ILogger logger, Exception exception, string filePath);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Directory fsync is not available on this platform; renames into {DirectoryPath} may be lost on power failure")]
    private static partial void LogDirectorySyncUnsupported(ILogger logger, string directoryPath);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "No room in {MaildirPath} for a message from session {SessionId} ({Reason}); replied 452")]
    private static partial void LogDiskFull(ILogger logger, string sessionId, string maildirPath, string reason);
}
