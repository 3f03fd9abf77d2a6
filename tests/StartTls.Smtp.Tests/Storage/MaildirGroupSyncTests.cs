using System.Text;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;
using static StartTls.Smtp.Tests.Storage.StorageTestKit;

namespace StartTls.Smtp.Tests.Storage;

/// <summary>
/// The store under concurrency: the fsyncs run on dedicated threads, one fsync of <c>new/</c> covers every message
/// moved in before it began, and a failed sync fails exactly the messages it covered (they get 451) and leaves nothing
/// of them.
/// </summary>
public sealed class MaildirGroupSyncTests : IDisposable
{
    private const string NoDirectorySync = "the store fsyncs directories only on Linux and macOS; on this OS there is no directory sync to group";

    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private MaildirMessageStore CreateStore(DiskSync disk)
        => new(new MaildirStoreOptions { Path = _temp.Maildir, AddTraceHeaders = false, FsyncDirectory = true }, null, TimeProvider.System, disk);

    private static bool DirectoriesAreSynced => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS();

    // Message i is i + 100 octets long, so a sync hook can tell messages apart by length.
    private static byte[] Content(int i)
    {
        var text = $"Message-Id: <{i}@test>\r\n\r\n";
        var bytes = new byte[i + 100];
        Encoding.ASCII.GetBytes(text).CopyTo(bytes, 0);
        for (var k = text.Length; k < bytes.Length - 2; k++)
        {
            bytes[k] = (byte)('a' + ((i + k) % 26));
        }

        bytes[^2] = (byte)'\r';
        bytes[^1] = (byte)'\n';
        return bytes;
    }

    private static Task<SmtpReply> Save(MaildirMessageStore store, int i, CancellationToken cancellationToken = default)
        => Task.Run(async () => await store.SaveAsync(Session(id: "c" + i), Envelope("a@example.org", "b@example.net"), new ScriptedContentStream(Content(i)), cancellationToken));

    private static string QueueId(SmtpReply reply) => reply.Message["OK queued as ".Length..];

    [SkippableFact]
    public async Task Concurrent_saves_all_land_byte_identical_and_share_directory_syncs()
    {
        Skip.IfNot(DirectoriesAreSynced, NoDirectorySync);

        const int count = 40;
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var disk = new ScriptedDiskSync { FirstDirectorySyncGate = gate };
        var store = CreateStore(disk);

        var saves = Enumerable.Range(0, count).Select(i => Save(store, i)).ToArray();

        // Hold the first sync of new/ until every message is in new/: then none may be released yet, and one more
        // sync must release all the others.
        await disk.FirstDirectorySyncEntered.Task.WaitAsync(Timeout);
        await Eventually.WaitUntilAsync(() => _temp.Files("new").Length == count, "every message is in new/");
        saves.Should().NotContain(t => t.IsCompleted, "no message is released before a sync of new/ that began after its move has ended");

        gate.SetResult();
        var replies = await Task.WhenAll(saves).WaitAsync(Timeout);

        disk.DirectorySyncs.Should().Be(2, "the first sync covered the messages moved before it began, the second all the others");
        store.DirectorySyncCount.Should().Be(2);
        disk.FileSyncs.Should().Be(count, "each file's data is flushed");
        for (var i = 0; i < count; i++)
        {
            replies[i].Code.Should().Be(250);
            var path = Path.Combine(_temp.Maildir, "new", QueueId(replies[i]));
            (await File.ReadAllBytesAsync(path)).Should().Equal(Content(i));
        }

        _temp.Files("new").Should().HaveCount(count);
        _temp.Files("tmp").Should().BeEmpty();

        // Every message was in new/ when a sync of it began.
        var synced = disk.DirectorySnapshots.SelectMany(s => s).ToHashSet();
        replies.Select(QueueId).Should().OnlyContain(id => synced.Contains(id));
    }

    [Fact]
    public async Task Many_concurrent_saves_on_the_real_disk_all_land_and_need_no_more_syncs_than_messages()
    {
        const int count = 300;
        var store = new MaildirMessageStore(new MaildirStoreOptions { Path = _temp.Maildir, AddTraceHeaders = false });

        var replies = await Task.WhenAll(Enumerable.Range(0, count).Select(i => Save(store, i))).WaitAsync(Timeout);

        for (var i = 0; i < count; i++)
        {
            (await File.ReadAllBytesAsync(Path.Combine(_temp.Maildir, "new", QueueId(replies[i])))).Should().Equal(Content(i));
        }

        _temp.Files("new").Should().HaveCount(count);
        _temp.Files("tmp").Should().BeEmpty();
        store.DirectorySyncCount.Should().BeLessThanOrEqualTo(count);
        store.SyncThreadCount.Should().BeLessThanOrEqualTo(64, "the sync threads are bounded");
    }

    [SkippableFact]
    public async Task A_failed_directory_sync_fails_exactly_the_messages_it_covered_and_leaves_nothing_of_them()
    {
        Skip.IfNot(DirectoriesAreSynced, NoDirectorySync);

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var disk = new ScriptedDiskSync { FirstDirectorySyncGate = gate, FirstDirectorySyncFailure = new IOException("directory fsync failed (scripted)") };
        var store = CreateStore(disk);

        // Message 0 alone is covered by the first sync (it is held, then fails); the others are moved while it runs.
        var first = Save(store, 0);
        await disk.FirstDirectorySyncEntered.Task.WaitAsync(Timeout);
        var others = Enumerable.Range(1, 10).Select(i => Save(store, i)).ToArray();
        await Eventually.WaitUntilAsync(() => _temp.Files("new").Length == 11, "every message is in new/");
        gate.SetResult();

        (await first).Should().Be(SmtpReply.TemporaryFailure, "the store answers its own failure with 451 instead of throwing");
        var replies = await Task.WhenAll(others).WaitAsync(Timeout);

        replies.Should().OnlyContain(r => r.Code == 250);
        var kept = _temp.Files("new").Select(Path.GetFileName).ToHashSet();
        kept.Should().BeEquivalentTo(replies.Select(QueueId), "the failed message was taken back out of new/");
        disk.DirectorySnapshots.First().Should().ContainSingle("the failed sync covered message 0 only");
        _temp.Files("tmp").Should().BeEmpty();
        disk.DirectorySyncs.Should().Be(2);
    }

    [Fact]
    public async Task A_failed_file_sync_fails_only_that_message_and_leaves_nothing_of_it()
    {
        const int count = 30;
        var disk = new ScriptedDiskSync { FailFileSync = length => (length - 100) % 3 == 0 }; // messages 0, 3, 6, ...
        var store = CreateStore(disk);

        var replies = await Task.WhenAll(Enumerable.Range(0, count).Select(i => Save(store, i))).WaitAsync(Timeout);

        for (var i = 0; i < count; i++)
        {
            var reply = replies[i];
            if (i % 3 == 0)
            {
                reply.Should().Be(SmtpReply.TemporaryFailure, $"message {i}'s fsync failed");
            }
            else
            {
                reply.Code.Should().Be(250);
                (await File.ReadAllBytesAsync(Path.Combine(_temp.Maildir, "new", QueueId(reply)))).Should().Equal(Content(i));
            }
        }

        _temp.Files("new").Should().HaveCount(count - 10);
        _temp.Files("tmp").Should().BeEmpty();
    }

    [Fact]
    public async Task A_failed_file_sync_of_a_large_message_leaves_nothing()
    {
        var disk = new ScriptedDiskSync { FailFileSync = _ => true };
        var store = CreateStore(disk);

        var reply = await store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), new ScriptedContentStream(Bytes(200_000)), CancellationToken.None);

        reply.Should().Be(SmtpReply.TemporaryFailure);
        _temp.Files("new").Should().BeEmpty();
        _temp.Files("tmp").Should().BeEmpty();
    }

    [Fact]
    public async Task Cancellation_while_the_file_is_being_synced_leaves_nothing()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var disk = new ScriptedDiskSync { FileSyncGate = gate };
        var store = CreateStore(disk);
        using var cts = new CancellationTokenSource();

        var save = Save(store, 1, cts.Token);
        await disk.FileSyncEntered.Task.WaitAsync(Timeout);
        _temp.Files("tmp").Should().ContainSingle("the file is written and being synced");
        await cts.CancelAsync();
        gate.SetResult();

        var act = () => save;
        await act.Should().ThrowAsync<OperationCanceledException>();
        _temp.Files("new").Should().BeEmpty();
        _temp.Files("tmp").Should().BeEmpty();
    }

    [Fact]
    public async Task Without_directory_sync_messages_are_released_after_their_file_sync()
    {
        var disk = new ScriptedDiskSync();
        var store = new MaildirMessageStore(new MaildirStoreOptions { Path = _temp.Maildir, AddTraceHeaders = false, FsyncDirectory = false }, null, TimeProvider.System, disk);

        var replies = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Save(store, i))).WaitAsync(Timeout);

        replies.Should().OnlyContain(r => r.Code == 250);
        disk.DirectorySyncs.Should().Be(0);
        disk.FileSyncs.Should().Be(10);
        store.DirectoryBatcher.Should().BeNull();
        _temp.Files("new").Should().HaveCount(10);
    }
}
