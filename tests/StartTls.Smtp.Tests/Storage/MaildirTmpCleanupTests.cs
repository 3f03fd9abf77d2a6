using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.Storage;
using static StartTls.Smtp.Tests.Storage.StorageTestKit;

namespace StartTls.Smtp.Tests.Storage;

/// <summary>
/// The Maildir store removes files from <c>tmp/</c> last written more than <see cref="MaildirStoreOptions.TmpMaxAge"/>
/// ago, when it is created and every <see cref="MaildirStoreOptions.TmpCleanupInterval"/>, counts and logs them, and
/// never touches a message still arriving or anything outside <c>tmp/</c>. Time is a <see cref="FakeTimeProvider"/>;
/// the file times are set explicitly.
/// </summary>
public sealed class MaildirTmpCleanupTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _temp = new();
    private readonly FakeLogCollector _logs = new();
    private readonly FakeTimeProvider _time = new(Start);

    public MaildirTmpCleanupTests()
    {
        foreach (var directory in new[] { "tmp", "new", "cur" })
        {
            Directory.CreateDirectory(Path.Combine(_temp.Maildir, directory));
        }
    }

    public void Dispose() => _temp.Dispose();

    private MaildirMessageStore CreateStore(Action<MaildirStoreOptions>? configure = null)
    {
        var options = new MaildirStoreOptions { Path = _temp.Maildir, AddTraceHeaders = false };
        configure?.Invoke(options);
        return new MaildirMessageStore(options, new FakeLogger<MaildirMessageStore>(_logs), _time);
    }

    /// <summary>Creates a file in the Maildir last written <paramref name="age"/> before <see cref="Start"/>.</summary>
    private string FileAged(string subdirectory, string name, TimeSpan age)
    {
        var path = Path.Combine(_temp.Maildir, subdirectory, name);
        File.WriteAllText(path, "partial message");
        File.SetLastWriteTimeUtc(path, (Start - age).UtcDateTime);
        return path;
    }

    private IReadOnlyList<FakeLogRecord> Removals => _logs.GetSnapshot().Where(r => r.Id.Id == 3007).ToList();

    [Fact]
    public void Options_default_to_the_maildir_convention()
    {
        var options = new MaildirStoreOptions();

        options.TmpMaxAge.Should().Be(TimeSpan.FromHours(36));
        options.TmpCleanupInterval.Should().Be(TimeSpan.FromHours(1));
    }

    [Fact]
    public void At_start_files_in_tmp_older_than_36_hours_are_removed_counted_and_logged_and_nothing_else_is_touched()
    {
        var old = FileAged("tmp", "1.M1P1Q1.crashed", TimeSpan.FromHours(37));
        var veryOld = FileAged("tmp", ".hidden-leftover", TimeSpan.FromDays(400));
        var young = FileAged("tmp", "2.M2P2Q2.recent", TimeSpan.FromHours(35));
        var oldInNew = FileAged("new", "3.M3P3Q3.delivered", TimeSpan.FromDays(10));
        var oldInCur = FileAged("cur", "4.M4P4Q4.read:2,S", TimeSpan.FromDays(10));

        using var store = CreateStore();

        File.Exists(old).Should().BeFalse();
        File.Exists(veryOld).Should().BeFalse("hidden files are left over all the same");
        File.Exists(young).Should().BeTrue();
        File.Exists(oldInNew).Should().BeTrue("only tmp/ is cleaned");
        File.Exists(oldInCur).Should().BeTrue("only tmp/ is cleaned");
        store.TmpFilesRemoved.Should().Be(2);
        var record = Removals.Should().ContainSingle().Subject;
        record.Level.Should().Be(LogLevel.Information);
        record.GetStructuredStateValue("Count").Should().Be("2");
    }

    [Fact]
    public void An_empty_sweep_logs_nothing()
    {
        FileAged("tmp", "2.M2P2Q2.recent", TimeSpan.FromHours(1));

        using var store = CreateStore();
        _time.Advance(TimeSpan.FromHours(1));

        store.TmpFilesRemoved.Should().Be(0);
        Removals.Should().BeEmpty();
    }

    [Fact]
    public void Files_are_removed_periodically_once_they_pass_the_age()
    {
        var soon = FileAged("tmp", "1.M1P1Q1.soon", TimeSpan.FromHours(35.5));
        var later = FileAged("tmp", "2.M2P2Q2.later", TimeSpan.FromHours(34.5));
        using var store = CreateStore();
        store.TmpFilesRemoved.Should().Be(0);

        _time.Advance(TimeSpan.FromMinutes(59));
        File.Exists(soon).Should().BeTrue("no sweep before the interval has passed");

        _time.Advance(TimeSpan.FromMinutes(1));
        File.Exists(soon).Should().BeFalse("it is 36.5 hours old at the first periodic sweep");
        File.Exists(later).Should().BeTrue();
        store.TmpFilesRemoved.Should().Be(1);

        _time.Advance(TimeSpan.FromHours(1));
        File.Exists(later).Should().BeFalse();
        store.TmpFilesRemoved.Should().Be(2);
        Removals.Should().HaveCount(2);
    }

    [Fact]
    public void The_age_and_interval_are_configurable()
    {
        var path = FileAged("tmp", "1.M1P1Q1.x", TimeSpan.FromHours(2.5));
        using var store = CreateStore(o =>
        {
            o.TmpMaxAge = TimeSpan.FromHours(3);
            o.TmpCleanupInterval = TimeSpan.FromMinutes(10);
        });
        File.Exists(path).Should().BeTrue();

        _time.Advance(TimeSpan.FromMinutes(30));
        File.Exists(path).Should().BeTrue("exactly 3 hours old is not older than 3 hours");

        _time.Advance(TimeSpan.FromMinutes(10));
        File.Exists(path).Should().BeFalse();
        store.TmpFilesRemoved.Should().Be(1);
    }

    [Fact]
    public void Dispose_stops_the_periodic_sweep()
    {
        var path = FileAged("tmp", "1.M1P1Q1.x", TimeSpan.FromHours(35.5));
        var store = CreateStore();

        store.Dispose();
        _time.Advance(TimeSpan.FromHours(5));

        File.Exists(path).Should().BeTrue();
        store.TmpFilesRemoved.Should().Be(0);
    }

    [Theory]
    [InlineData(1.99, 60)]
    [InlineData(0, 60)]
    [InlineData(36, 0.5)]
    [InlineData(36, 0)]
    [InlineData(36, 24 * 60 + 1)]
    public void Out_of_range_options_are_refused(double maxAgeHours, double intervalMinutes)
    {
        var act = () => CreateStore(o =>
        {
            o.TmpMaxAge = TimeSpan.FromHours(maxAgeHours);
            o.TmpCleanupInterval = TimeSpan.FromMinutes(intervalMinutes);
        });

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public async Task A_message_still_arriving_is_not_removed_by_sweeps_during_the_longest_possible_DATA()
    {
        // The shortest age allowed and a sweep every minute, against a message that takes the longest DATA allowed (1 h).
        var realNow = DateTimeOffset.UtcNow;
        _time.AdjustTime(realNow);
        using var store = CreateStore(o =>
        {
            o.TmpMaxAge = TimeSpan.FromHours(2);
            o.TmpCleanupInterval = TimeSpan.FromMinutes(1);
        });
        var content = Bytes(300_000);
        var stream = new PausingStream(content, pauseAt: 64 * 1024); // one whole block, so it is written before the pause
        var save = store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), stream, CancellationToken.None).AsTask();
        await stream.Paused.Task.WaitAsync(TimeSpan.FromSeconds(20));
        var tmpFile = _temp.Files("tmp").Should().ContainSingle("the message is being written to tmp/").Subject;
        new FileInfo(tmpFile).Length.Should().Be(64 * 1024);

        // The store waits for more content and writes nothing more until the content ends (a small message is written
        // only then), so the file's time may stay that of its creation. Sweep every minute for an hour (the longest
        // DataTimeout) and a minute (for the sync).
        File.SetLastWriteTimeUtc(tmpFile, realNow.UtcDateTime);
        for (var minute = 0; minute < 61; minute++)
        {
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        File.Exists(tmpFile).Should().BeTrue();
        stream.Resume.SetResult();
        var reply = await save.WaitAsync(TimeSpan.FromSeconds(20));

        reply.Code.Should().Be(250);
        var stored = _temp.Files("new").Should().ContainSingle().Subject;
        (await File.ReadAllBytesAsync(stored)).Should().Equal(content);
        store.TmpFilesRemoved.Should().Be(0);
    }

    /// <summary>Returns the content up to <c>pauseAt</c>, then waits for <see cref="Resume"/> before returning the rest.</summary>
    private sealed class PausingStream(byte[] content, int pauseAt) : Stream
    {
        private int _position;

        public TaskCompletionSource Paused { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Resume { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position == pauseAt)
            {
                Paused.TrySetResult();
                await Resume.Task.WaitAsync(cancellationToken);
            }

            var end = _position < pauseAt ? pauseAt : content.Length;
            var count = Math.Min(buffer.Length, end - _position);
            content.AsSpan(_position, count).CopyTo(buffer.Span);
            _position += count;
            return count;
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
