using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Storage;

/// <summary>The dedicated sync threads and the group sync of a directory, on their own.</summary>
public sealed class SyncPrimitivesTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private sealed class BlockingItem(Task release) : ISyncWorkItem
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Execute()
        {
            Started.TrySetResult();
            release.Wait();
            Done.TrySetResult();
        }
    }

    private sealed class Waiter : IDirectorySyncWaiter
    {
        public TaskCompletionSource<Exception?> Synced { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnDirectorySynced(Exception? error) => Synced.TrySetResult(error);
    }

    private sealed class GatedDisk : DiskSync
    {
        private int _syncs;

        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Exception? Failure { get; set; }

        public int Syncs => Volatile.Read(ref _syncs);

        public override bool SyncDirectory(string path)
        {
            if (Interlocked.Increment(ref _syncs) == 1)
            {
                Entered.TrySetResult();
                Gate.Task.Wait();
                if (Failure is { } failure)
                {
                    throw failure;
                }
            }

            return true;
        }
    }

    [Fact]
    public async Task Pool_runs_every_item_on_at_most_its_maximum_of_threads()
    {
        var pool = new SyncWorkerPool(maxThreads: 3, TimeSpan.FromSeconds(30), "test sync");
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var items = Enumerable.Range(0, 10).Select(_ => new BlockingItem(release.Task)).ToArray();

        foreach (var item in items)
        {
            pool.Queue(item);
        }

        await Task.WhenAll(items.Take(3).Select(i => i.Started.Task)).WaitAsync(Timeout);
        pool.ThreadCount.Should().Be(3);
        items.Skip(3).Should().OnlyContain(i => !i.Started.Task.IsCompleted, "the others wait in the queue");

        release.SetResult();
        await Task.WhenAll(items.Select(i => i.Done.Task)).WaitAsync(Timeout);
        pool.ThreadCount.Should().BeLessThanOrEqualTo(3);
    }

    [Fact]
    public async Task Pool_threads_stop_when_idle_and_start_again_on_demand()
    {
        var pool = new SyncWorkerPool(maxThreads: 4, TimeSpan.FromMilliseconds(50), "test sync");
        var done = new BlockingItem(Task.CompletedTask);
        pool.Queue(done);
        await done.Done.Task.WaitAsync(Timeout);

        // Idle threads stop on their own clock; nothing signals it.
        await Eventually.HoldsAsync(() => pool.ThreadCount == 0, Timeout);
        pool.ThreadCount.Should().Be(0);
        var again = new BlockingItem(Task.CompletedTask);
        pool.Queue(again);
        await again.Done.Task.WaitAsync(Timeout);
    }

    [Fact]
    public async Task Batcher_covers_a_waiter_added_during_a_sync_with_the_next_sync_only()
    {
        var disk = new GatedDisk();
        var batcher = new DirectorySyncBatcher("/unused", disk, () => { });
        var first = new Waiter();
        var later = Enumerable.Range(0, 5).Select(_ => new Waiter()).ToArray();

        var leader = Task.Run(() => batcher.Add(first)); // this thread runs the syncs
        await disk.Entered.Task.WaitAsync(Timeout);
        foreach (var waiter in later)
        {
            batcher.Add(waiter); // returns at once: a sync is running
        }

        batcher.PendingCount.Should().Be(5);
        later.Should().OnlyContain(w => !w.Synced.Task.IsCompleted, "the running sync began before they were added");
        disk.Gate.SetResult();

        (await first.Synced.Task.WaitAsync(Timeout)).Should().BeNull();
        foreach (var waiter in later)
        {
            (await waiter.Synced.Task.WaitAsync(Timeout)).Should().BeNull();
        }

        await leader.WaitAsync(Timeout);
        disk.Syncs.Should().Be(2);
        batcher.SyncCount.Should().Be(2);
        batcher.PendingCount.Should().Be(0);
    }

    [Fact]
    public async Task Batcher_fails_exactly_the_waiters_of_a_failed_sync()
    {
        var failure = new IOException("scripted");
        var disk = new GatedDisk { Failure = failure };
        var batcher = new DirectorySyncBatcher("/unused", disk, () => { });
        var first = new Waiter();
        var second = new Waiter();

        var leader = Task.Run(() => batcher.Add(first));
        await disk.Entered.Task.WaitAsync(Timeout);
        batcher.Add(second);
        disk.Gate.SetResult();
        await leader.WaitAsync(Timeout);

        (await first.Synced.Task).Should().BeSameAs(failure);
        (await second.Synced.Task).Should().BeNull();
    }

    [Fact]
    public async Task Batcher_reports_a_platform_without_directory_sync_and_still_releases()
    {
        var unsupported = 0;
        var batcher = new DirectorySyncBatcher("/unused", new UnsupportedDisk(), () => unsupported++);
        var waiter = new Waiter();

        batcher.Add(waiter);

        (await waiter.Synced.Task.WaitAsync(Timeout)).Should().BeNull();
        unsupported.Should().Be(1);
    }

    private sealed class UnsupportedDisk : DiskSync
    {
        public override bool SyncDirectory(string path) => false;
    }
}
