using System.Collections.Concurrent;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Tests.Storage;

/// <summary>
/// A <see cref="DiskSync"/> for tests: counts the syncs, records what <c>new/</c> held when each directory sync began,
/// and can hold a sync at a gate or make it fail. The real fsyncs still run unless a sync is made to fail.
/// </summary>
internal sealed class ScriptedDiskSync : DiskSync
{
    private int _fileSyncs;
    private int _directorySyncs;

    /// <summary>The number of file flushes begun.</summary>
    public int FileSyncs => Volatile.Read(ref _fileSyncs);

    /// <summary>The number of directory syncs begun.</summary>
    public int DirectorySyncs => Volatile.Read(ref _directorySyncs);

    /// <summary>The file names in the synced directory when each directory sync began, in order.</summary>
    public ConcurrentQueue<HashSet<string>> DirectorySnapshots { get; } = new();

    /// <summary>When set, the first directory sync signals <see cref="FirstDirectorySyncEntered"/> and waits for it.</summary>
    public TaskCompletionSource? FirstDirectorySyncGate { get; init; }

    /// <summary>Set when the first directory sync has begun (and is waiting at its gate, if any).</summary>
    public TaskCompletionSource FirstDirectorySyncEntered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Thrown by the first directory sync (after its gate), when set.</summary>
    public Exception? FirstDirectorySyncFailure { get; init; }

    /// <summary>When set, every file flush signals <see cref="FileSyncEntered"/> and waits for it.</summary>
    public TaskCompletionSource? FileSyncGate { get; init; }

    /// <summary>Set when a file flush has begun.</summary>
    public TaskCompletionSource FileSyncEntered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Decides, by the file's length, whether its flush fails.</summary>
    public Func<long, bool>? FailFileSync { get; init; }

    /// <summary>Makes the exception a failing file flush throws; by default an <see cref="IOException"/>.</summary>
    public Func<Exception> FileSyncFailure { get; init; } = static () => new IOException("fsync failed (scripted)");

    public override void FlushFile(FileStream file)
    {
        Interlocked.Increment(ref _fileSyncs);
        if (FileSyncGate is { } gate)
        {
            FileSyncEntered.TrySetResult();
            gate.Task.Wait();
        }

        if (FailFileSync is { } fail && fail(file.Length))
        {
            throw FileSyncFailure();
        }

        base.FlushFile(file);
    }

    public override bool SyncDirectory(string path)
    {
        var number = Interlocked.Increment(ref _directorySyncs);
        var snapshot = new HashSet<string>(Directory.GetFiles(path).Select(Path.GetFileName)!, StringComparer.Ordinal);
        DirectorySnapshots.Enqueue(snapshot);
        if (number == 1)
        {
            FirstDirectorySyncEntered.TrySetResult();
            FirstDirectorySyncGate?.Task.Wait();
            if (FirstDirectorySyncFailure is { } failure)
            {
                throw failure;
            }
        }

        return base.SyncDirectory(path);
    }
}
