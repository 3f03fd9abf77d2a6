namespace StartTls.Smtp.Storage;

/// <summary>
/// A small set of dedicated threads for blocking disk calls (create, write, fsync, rename), so that a store waiting for
/// the disk never holds a thread-pool thread that also serves connections.
/// </summary>
/// <remarks>
/// Threads start on demand, one per item in flight, up to <c>maxThreads</c>; beyond that items wait in a queue, which
/// holds at most one item per store call in flight. An idle thread stops after <c>idleTimeout</c>. Running many fsyncs
/// at once is the point: the block layer merges concurrent cache flushes, and a journaling file system commits
/// concurrent fsyncs together, so N messages waiting in parallel cost far less than N waits in a row.
/// </remarks>
internal sealed class SyncWorkerPool
{
    // The threads only make system calls; a small stack is plenty.
    private const int StackSize = 256 * 1024;

    private readonly Lock _lock = new();
    private readonly Queue<ISyncWorkItem> _queue = new();

    // Last in, first out: the most recently idle thread is woken first, so spare threads reach their idle timeout.
    private readonly List<Worker> _idle = [];
    private readonly int _maxThreads;
    private readonly TimeSpan _idleTimeout;
    private readonly string _threadName;
    private int _threads;

    /// <summary>Creates the pool; no thread starts until the first item.</summary>
    /// <param name="maxThreads">The most threads running at once.</param>
    /// <param name="idleTimeout">How long a thread waits for work before it stops.</param>
    /// <param name="threadName">The name of the threads (seen in debuggers and dumps).</param>
    public SyncWorkerPool(int maxThreads, TimeSpan idleTimeout, string threadName)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxThreads, 1);
        _maxThreads = maxThreads;
        _idleTimeout = idleTimeout;
        _threadName = threadName;
    }

    /// <summary>The number of threads running now (idle ones included).</summary>
    public int ThreadCount
    {
        get
        {
            lock (_lock)
            {
                return _threads;
            }
        }
    }

    /// <summary>Runs <paramref name="item"/> on one of the pool's threads, as soon as one is free.</summary>
    /// <param name="item">The work; its <see cref="ISyncWorkItem.Execute"/> must not throw.</param>
    public void Queue(ISyncWorkItem item)
    {
        Worker? wake = null;
        var start = false;
        lock (_lock)
        {
            if (_idle.Count > 0)
            {
                wake = _idle[^1];
                _idle.RemoveAt(_idle.Count - 1);
                wake.Assigned = item;
            }
            else if (_threads < _maxThreads)
            {
                _threads++;
                start = true;
            }
            else
            {
                _queue.Enqueue(item);
            }
        }

        if (wake is not null)
        {
            wake.Signal.Set();
        }
        else if (start)
        {
            try
            {
                var thread = new Thread(Run, StackSize) { IsBackground = true, Name = _threadName };
                thread.UnsafeStart(item);
            }
            catch
            {
                lock (_lock)
                {
                    _threads--;
                }

                throw;
            }
        }
    }

    private void Run(object? state)
    {
        var item = (ISyncWorkItem)state!;
        using var worker = new Worker();
        while (true)
        {
            item.Execute();
            if (!TryTakeNext(worker, out item))
            {
                return;
            }
        }
    }

    private bool TryTakeNext(Worker worker, out ISyncWorkItem item)
    {
        lock (_lock)
        {
            if (_queue.TryDequeue(out item!))
            {
                return true;
            }

            _idle.Add(worker);
        }

        while (true)
        {
            var signalled = worker.Signal.Wait(_idleTimeout);
            lock (_lock)
            {
                if (worker.Assigned is { } assigned)
                {
                    worker.Assigned = null;
                    worker.Signal.Reset();
                    item = assigned;
                    return true;
                }

                if (signalled)
                {
                    // A late Set from an earlier hand-over that this thread had already picked up: still idle.
                    worker.Signal.Reset();
                    continue;
                }

                _idle.Remove(worker);
                _threads--;
                item = null!;
                return false;
            }
        }
    }

    private sealed class Worker : IDisposable
    {
        /// <summary>Set under the pool's lock by <see cref="Queue"/> when it hands this idle thread an item.</summary>
        public ISyncWorkItem? Assigned { get; set; }

        // No spinning before blocking: the wait is for the next message, and spinning would take a core from the
        // connections on small machines.
        public ManualResetEventSlim Signal { get; } = new(initialState: false, spinCount: 0);

        public void Dispose() => Signal.Dispose();
    }
}
