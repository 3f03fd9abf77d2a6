namespace StartTls.Smtp.Storage;

/// <summary>
/// Group commit of a directory's fsync: every message renamed into the directory waits for the next sync of it, and one
/// sync covers every rename done before it started, so concurrent messages share one sync instead of one each.
/// </summary>
/// <remarks>
/// <para>
/// One sync runs at a time. The thread that adds a waiter while none runs becomes the syncing thread: it takes every
/// waiter added so far, syncs, releases them, and repeats until none is left. A waiter added while a sync runs is
/// taken by the next one, never by the running one, which may have started before its rename: a waiter is released
/// only by a sync that began after it was added. No timer: under light load each message gets its own sync at once.
/// </para>
/// <para>
/// A failed sync fails exactly the waiters it took. The number waiting is at most the number of messages in flight.
/// </para>
/// </remarks>
internal sealed class DirectorySyncBatcher
{
    private readonly Lock _lock = new();
    private readonly string _directory;
    private readonly DiskSync _disk;
    private readonly Action _unsupported;
    private List<IDirectorySyncWaiter> _pending = [];
    private List<IDirectorySyncWaiter> _spare = [];
    private bool _running;
    private long _syncCount;

    /// <summary>Creates the batcher.</summary>
    /// <param name="directory">The directory to sync.</param>
    /// <param name="disk">The sync call.</param>
    /// <param name="unsupported">Called after a sync the platform could not do (the waiters are released anyway).</param>
    public DirectorySyncBatcher(string directory, DiskSync disk, Action unsupported)
    {
        _directory = directory;
        _disk = disk;
        _unsupported = unsupported;
    }

    /// <summary>The number of directory syncs run so far (failed ones included).</summary>
    public long SyncCount => Interlocked.Read(ref _syncCount);

    /// <summary>The number of waiters not yet taken by a sync.</summary>
    public int PendingCount
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>
    /// Adds a waiter whose entry is already in the directory. Either returns at once (a sync is running; the next one
    /// covers the waiter) or runs syncs on the calling thread until no waiter is left. Call it on a thread that may block.
    /// </summary>
    public void Add(IDirectorySyncWaiter waiter)
    {
        lock (_lock)
        {
            _pending.Add(waiter);
            if (_running)
            {
                return;
            }

            _running = true;
        }

        RunSyncs();
    }

    private void RunSyncs()
    {
        while (true)
        {
            List<IDirectorySyncWaiter> batch;
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _running = false;
                    return;
                }

                // Everything in the batch was renamed before this sync starts.
                batch = _pending;
                _pending = _spare;
            }

            Exception? error = null;
            var supported = true;
            try
            {
                supported = _disk.SyncDirectory(_directory);
            }
            catch (Exception ex)
            {
                error = ex;
            }

            Interlocked.Increment(ref _syncCount);

            // Nothing here may stop the loop (a throwing logger, say): every later message would wait forever.
            // The waiters complete themselves in finally blocks, so an exception past that point is only a lost log line.
            try
            {
                if (!supported)
                {
                    _unsupported();
                }
            }
            catch (Exception)
            {
            }

            foreach (var waiter in batch)
            {
                try
                {
                    waiter.OnDirectorySynced(error);
                }
                catch (Exception)
                {
                }
            }

            batch.Clear();
            _spare = batch; // only the syncing thread touches _spare
        }
    }
}
