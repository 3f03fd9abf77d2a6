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
/// The content is streamed to disk in blocks; it is never held whole in memory. On Unix the directories are created
/// with mode 0700 and the files with mode 0600 (before the umask), because they hold other people's mail.
/// Each file is named in the usual form <c>{seconds}.M{microseconds}P{pid}Q{counter}.{host}</c>, and that name is
/// the queue id in the reply (<c>250 2.0.0 OK queued as …</c>).
/// </remarks>
public sealed partial class MaildirMessageStore : IMessageStore
{
    private const int BufferSize = 64 * 1024;
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode NewFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly string _tmpDirectory;
    private readonly string _newDirectory;
    private readonly bool _addTraceHeaders;
    private readonly bool _fsyncDirectory;
    private readonly string _serverName;
    private readonly string _escapedHostName;
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private int _directorySyncWarned;

    /// <summary>Creates the store, and the Maildir's <c>tmp</c>, <c>new</c> and <c>cur</c> directories if missing.</summary>
    /// <param name="options">Where and how to store; read once, here.</param>
    /// <param name="logger">Where to log stored and failed messages (never their content).</param>
    /// <exception cref="ArgumentException"><see cref="MaildirStoreOptions.Path"/> is empty.</exception>
    /// <exception cref="IOException">A directory could not be created.</exception>
    public MaildirMessageStore(MaildirStoreOptions options, ILogger<MaildirMessageStore>? logger = null)
        : this(options, logger, TimeProvider.System)
    {
    }

    internal MaildirMessageStore(MaildirStoreOptions options, ILogger<MaildirMessageStore>? logger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.Path, $"{nameof(options)}.{nameof(options.Path)}");
        ArgumentNullException.ThrowIfNull(timeProvider);

        RootPath = Path.GetFullPath(options.Path);
        _tmpDirectory = Path.Combine(RootPath, "tmp");
        _newDirectory = Path.Combine(RootPath, "new");
        _addTraceHeaders = options.AddTraceHeaders;
        _fsyncDirectory = options.FsyncDirectory && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS());
        _serverName = string.IsNullOrWhiteSpace(options.ServerName) ? Environment.MachineName : options.ServerName.Trim();
        _escapedHostName = MaildirFileName.EscapeHostName(Environment.MachineName);
        _logger = logger ?? (ILogger)NullLogger<MaildirMessageStore>.Instance;
        _timeProvider = timeProvider;

        CreateDirectory(RootPath);
        CreateDirectory(_tmpDirectory);
        CreateDirectory(_newDirectory);
        CreateDirectory(Path.Combine(RootPath, "cur"));
    }

    /// <summary>The full path of the Maildir's root.</summary>
    internal string RootPath { get; }

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
        var created = false;
        var moved = false;
        long size = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            var file = new FileStream(tmpPath, CreateFileOptions());
            created = true;
            await using (file.ConfigureAwait(false))
            {
                var filled = 0;
                if (_addTraceHeaders)
                {
                    var headers = TraceHeaders.Build(session, envelope, _serverName, TimeZoneInfo.ConvertTime(now, _timeProvider.LocalTimeZone));
                    if (headers.Length <= buffer.Length)
                    {
                        headers.CopyTo(buffer, 0);
                        filled = headers.Length;
                    }
                    else
                    {
                        await file.WriteAsync(headers, cancellationToken).ConfigureAwait(false);
                    }

                    size += headers.Length;
                }

                // Gather reads (the content arrives in small network-sized pieces) into full blocks before writing.
                while (true)
                {
                    var read = await content.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        break;
                    }

                    filled += read;
                    size += read;
                    if (filled == buffer.Length)
                    {
                        await file.WriteAsync(buffer.AsMemory(0, filled), cancellationToken).ConfigureAwait(false);
                        filled = 0;
                    }
                }

                if (filled > 0)
                {
                    await file.WriteAsync(buffer.AsMemory(0, filled), cancellationToken).ConfigureAwait(false);
                }

                cancellationToken.ThrowIfCancellationRequested();
                file.Flush(flushToDisk: true);
            }

            // The last moment to give up: once the message is in new/ it is delivered.
            cancellationToken.ThrowIfCancellationRequested();
            File.Move(tmpPath, newPath, overwrite: false);
            moved = true;

            if (_fsyncDirectory && !DirectorySync.Fsync(_newDirectory) && Interlocked.Exchange(ref _directorySyncWarned, 1) == 0)
            {
                LogDirectorySyncUnsupported(_logger, _newDirectory);
            }
        }
        catch (Exception ex)
        {
            if (moved)
            {
                TryDelete(newPath);
            }
            else if (created)
            {
                TryDelete(tmpPath);
            }

            if (ex is MessageAbortedException or OperationCanceledException)
            {
                LogAborted(_logger, session.Id, ex.Message);
            }
            else
            {
                LogFailed(_logger, ex, session.Id, RootPath);
            }

            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        LogStored(_logger, name, session.Id, size);
        return new SmtpReply(250, "2.0.0", $"OK queued as {name}");
    }

    private static FileStreamOptions CreateFileOptions()
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            Options = FileOptions.Asynchronous,
            BufferSize = 0, // SaveAsync writes whole blocks itself.
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = NewFileMode;
        }

        return options;
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

    private void TryDelete(string path)
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

    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "Stored message {FileName} from session {SessionId} ({Size} octets)")]
    private static partial void LogStored(ILogger logger, string fileName, string sessionId, long size);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Debug, Message = "Message from session {SessionId} not stored: {Reason}")]
    private static partial void LogAborted(ILogger logger, string sessionId, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Failed to store a message from session {SessionId} in {MaildirPath}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string sessionId, string maildirPath);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "Could not delete {FilePath} after a failed delivery")]
    private static partial void LogDeleteFailed(ILogger logger, Exception exception, string filePath);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "Directory fsync is not available on this platform; renames into {DirectoryPath} may be lost on power failure")]
    private static partial void LogDirectorySyncUnsupported(ILogger logger, string directoryPath);
}
