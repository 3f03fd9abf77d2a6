using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using StartTls.Smtp.Storage;
using static StartTls.Smtp.Tests.Storage.StorageTestKit;

namespace StartTls.Smtp.Tests.Storage;

/// <summary>
/// A failure of the Maildir store's own disk work is logged once, by the store, and answered with a reply: 452 4.3.1
/// (a warning without a stack trace) when there is no room, 451 4.3.0 (an error with the exception) otherwise. Nothing
/// of the message is left. Aborts, cancellations and failures to read the content still propagate.
/// </summary>
public sealed class MaildirStoreFailureTests : IDisposable
{
    // errno on Linux (HResult carries it on Unix); the store's classifier is checked against a real ENOSPC below.
    private const int Enospc = 28;
    private const int EdquotLinux = 122;

    private readonly TempDirectory _temp = new();
    private readonly FakeLogCollector _logs = new();

    public void Dispose() => _temp.Dispose();

    private MaildirMessageStore CreateStore(DiskSync? disk = null)
        => new(new MaildirStoreOptions { Path = _temp.Maildir, AddTraceHeaders = false }, new FakeLogger<MaildirMessageStore>(_logs), TimeProvider.System, disk);

    private static ValueTask<SmtpReply> Save(MaildirMessageStore store, int length = 200_000, CancellationToken cancellationToken = default)
        => store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), new ScriptedContentStream(Bytes(length)), cancellationToken);

    private IReadOnlyList<FakeLogRecord> WarningsAndErrors => _logs.GetSnapshot().Where(r => r.Level >= LogLevel.Warning).ToList();

    [Theory]
    [InlineData(Enospc)]
    [InlineData(EdquotLinux)]
    public async Task No_room_gives_452_4_3_1_logged_once_as_a_warning_without_stack_trace_and_leaves_nothing(int errno)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the errno values are Linux's
        }

        var store = CreateStore(new ScriptedDiskSync { FailFileSync = _ => true, FileSyncFailure = () => new IOException("No space left on device", errno) });

        var reply = await Save(store);

        reply.Code.Should().Be(452);
        reply.EnhancedStatusCode.Should().Be("4.3.1", "RFC 3463: mail system full");
        var record = WarningsAndErrors.Should().ContainSingle().Subject;
        record.Level.Should().Be(LogLevel.Warning);
        record.Exception.Should().BeNull("a full disk is a state of the machine, not a bug: no stack trace");
        record.Id.Id.Should().Be(3006);
        record.Message.Should().Contain("No space left on device").And.Contain("replied 452");
        _temp.Files("new").Should().BeEmpty();
        _temp.Files("tmp").Should().BeEmpty();
    }

    [Fact]
    public async Task Any_other_disk_error_gives_451_4_3_0_logged_once_as_an_error_with_the_exception_and_leaves_nothing()
    {
        var failure = new IOException("Input/output error", 5);
        var store = CreateStore(new ScriptedDiskSync { FailFileSync = _ => true, FileSyncFailure = () => failure });

        var reply = await Save(store);

        reply.Code.Should().Be(451);
        reply.EnhancedStatusCode.Should().Be("4.3.0");
        var record = WarningsAndErrors.Should().ContainSingle().Subject;
        record.Level.Should().Be(LogLevel.Error);
        record.Exception.Should().BeSameAs(failure);
        record.Id.Id.Should().Be(3003);
        _temp.Files("new").Should().BeEmpty();
        _temp.Files("tmp").Should().BeEmpty();
    }

    [Fact]
    public async Task A_file_that_cannot_be_created_gives_451_and_one_error()
    {
        var store = CreateStore();
        Directory.Delete(Path.Combine(_temp.Maildir, "tmp"));

        var reply = await Save(store, length: 100);

        reply.Code.Should().Be(451);
        WarningsAndErrors.Should().ContainSingle().Which.Exception.Should().BeOfType<DirectoryNotFoundException>();
        _temp.Files("new").Should().BeEmpty();
    }

    [Fact]
    public async Task A_failure_to_read_the_content_propagates_and_the_store_logs_no_warning()
    {
        var store = CreateStore();
        var stream = new ScriptedContentStream(Bytes(100_000), failAfter: 70_000, failure: new IOException("the stream broke"));

        var act = async () => await store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), stream, CancellationToken.None);

        (await act.Should().ThrowAsync<IOException>()).WithMessage("the stream broke");
        WarningsAndErrors.Should().BeEmpty("an exception that escapes the store is logged by its caller, not twice");
        _temp.Files("new").Should().BeEmpty();
        _temp.Files("tmp").Should().BeEmpty();
    }

    [Fact]
    public async Task An_aborted_message_propagates_and_is_logged_only_at_debug()
    {
        var store = CreateStore();
        var stream = new ScriptedContentStream(Bytes(100_000), failAfter: 70_000, failure: new MessageAbortedException("client went away"));

        var act = async () => await store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), stream, CancellationToken.None);

        await act.Should().ThrowAsync<MessageAbortedException>();
        WarningsAndErrors.Should().BeEmpty();
        _logs.GetSnapshot().Should().ContainSingle(r => r.Level == LogLevel.Debug && r.Id.Id == 3002);
        _temp.Files("tmp").Should().BeEmpty();
    }

    [Fact]
    public void A_real_ENOSPC_is_recognised_as_no_room_and_other_errors_are_not()
    {
        if (OperatingSystem.IsLinux())
        {
            // Writing to /dev/full fails with ENOSPC: the HResult .NET really gives, not one made up by the test.
            var act = () =>
            {
                using var full = new FileStream("/dev/full", FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0);
                full.Write(new byte[16]);
            };
            var enospc = act.Should().Throw<IOException>().Which;
            DiskFull.Is(enospc).Should().BeTrue();
            DiskFull.Is(new IOException("quota", EdquotLinux)).Should().BeTrue();
        }

        DiskFull.Is(new IOException("Input/output error", 5)).Should().BeFalse();
        DiskFull.Is(new IOException("plain")).Should().BeFalse();
        DiskFull.Is(new UnauthorizedAccessException("denied")).Should().BeFalse();
        DiskFull.Is(new MessageAbortedException()).Should().BeFalse();
    }
}
