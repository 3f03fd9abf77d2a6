using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using StartTls.Smtp.Storage;
using static StartTls.Smtp.Tests.Storage.StorageTestKit;

namespace StartTls.Smtp.Tests.Storage;

public sealed class MaildirMessageStoreTests : IDisposable
{
    private static readonly DateTimeOffset FixedNow = new(2025, 7, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _temp = new();

    public void Dispose() => _temp.Dispose();

    private MaildirMessageStore CreateStore(bool addTraceHeaders = false, string? serverName = "mx.example.net")
        => new(new MaildirStoreOptions { Path = _temp.Maildir, AddTraceHeaders = addTraceHeaders, ServerName = serverName }, null, new FixedTimeProvider(FixedNow));

    [Fact]
    public void Constructor_creates_tmp_new_and_cur()
    {
        _ = CreateStore();

        Directory.Exists(Path.Combine(_temp.Maildir, "tmp")).Should().BeTrue();
        Directory.Exists(Path.Combine(_temp.Maildir, "new")).Should().BeTrue();
        Directory.Exists(Path.Combine(_temp.Maildir, "cur")).Should().BeTrue();
    }

    [Fact]
    public void Constructor_rejects_an_empty_path()
    {
        var act = () => new MaildirMessageStore(new MaildirStoreOptions { Path = " " });

        act.Should().Throw<ArgumentException>();
    }

    [Fact]
    public void Options_have_safe_defaults()
    {
        var options = new MaildirStoreOptions();

        options.Path.Should().Be("mail");
        options.AddTraceHeaders.Should().BeTrue();
        options.ServerName.Should().BeNull();
        options.FsyncDirectory.Should().BeTrue();
    }

    [Fact]
    public async Task Save_without_trace_headers_writes_exactly_the_content_into_new_and_leaves_tmp_empty()
    {
        var store = CreateStore();
        var content = Bytes(300_000); // several 64 KiB blocks, every octet value
        var stream = new ScriptedContentStream(content);

        var reply = await store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), stream, CancellationToken.None);

        stream.ReachedEnd.Should().BeTrue();
        var files = _temp.Files("new");
        files.Should().ContainSingle();
        (await File.ReadAllBytesAsync(files[0])).Should().Equal(content);
        _temp.Files("tmp").Should().BeEmpty();
        _temp.Files("cur").Should().BeEmpty();

        reply.Code.Should().Be(250);
        reply.EnhancedStatusCode.Should().Be("2.0.0");
        reply.Message.Should().Be("OK queued as " + Path.GetFileName(files[0]));
    }

    [Fact]
    public async Task Save_of_an_empty_message_writes_an_empty_file()
    {
        var store = CreateStore();

        var reply = await store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), new MemoryStream(), CancellationToken.None);

        reply.IsPositive.Should().BeTrue();
        _temp.Files("new").Should().ContainSingle().Which.Should().Match(f => new FileInfo(f).Length == 0);
    }

    [Fact]
    public async Task File_name_has_the_usual_maildir_form()
    {
        var store = CreateStore();

        await store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), new MemoryStream([1, 2]), CancellationToken.None);

        var name = Path.GetFileName(_temp.Files("new").Single());
        var escapedHost = MaildirFileName.EscapeHostName(Environment.MachineName);
        name.Should().MatchRegex($@"^{FixedNow.ToUnixTimeSeconds()}\.M0P{Environment.ProcessId}Q\d+\.{Regex.Escape(escapedHost)}$");
    }

    [Fact]
    public void Host_name_escapes_slash_and_colon()
    {
        MaildirFileName.EscapeHostName("a/b:c").Should().Be(@"a\057b\072c");
        MaildirFileName.EscapeHostName("mx.example.net").Should().Be("mx.example.net");
    }

    [Fact]
    public void File_names_carry_microseconds_and_a_growing_counter()
    {
        var at = new DateTimeOffset(2025, 7, 1, 12, 0, 0, TimeSpan.Zero).AddTicks(1_234_567);

        var first = MaildirFileName.Create(at, "host");
        var second = MaildirFileName.Create(at, "host");

        first.Should().StartWith($"{at.ToUnixTimeSeconds()}.M123456P{Environment.ProcessId}Q");
        first.Should().NotBe(second);
    }

    [Fact]
    public async Task Trace_headers_name_the_sender_the_client_the_server_and_the_single_recipient()
    {
        var store = CreateStore(addTraceHeaders: true);
        var content = "Subject: hi\r\n\r\nHello\r\n"u8.ToArray();

        await store.SaveAsync(Session(id: "s1"), Envelope("sender@example.org", "rcpt@example.net"), new ScriptedContentStream(content), CancellationToken.None);

        var text = await File.ReadAllTextAsync(_temp.Files("new").Single());
        text.Should().Be(
            "Return-Path: <sender@example.org>\r\n" +
            "Received: from client.example.org ([192.0.2.1])\r\n" +
            "\tby mx.example.net with ESMTP id s1-1\r\n" +
            "\tfor <rcpt@example.net>; Tue, 1 Jul 2025 12:00:00 +0000\r\n" +
            "Subject: hi\r\n\r\nHello\r\n");
    }

    [Fact]
    public async Task Trace_headers_use_an_empty_return_path_for_the_null_sender_and_no_for_clause_for_several_recipients()
    {
        var store = CreateStore(addTraceHeaders: true);

        await store.SaveAsync(
            Session(id: "abc", extended: false, messageCount: 2),
            Envelope(null, "one@example.net", "two@example.net"),
            new MemoryStream("X: y\r\n\r\n"u8.ToArray()),
            CancellationToken.None);

        var text = await File.ReadAllTextAsync(_temp.Files("new").Single());
        text.Should().Be(
            "Return-Path: <>\r\n" +
            "Received: from client.example.org ([192.0.2.1])\r\n" +
            "\tby mx.example.net with SMTP id abc-3; Tue, 1 Jul 2025 12:00:00 +0000\r\n" +
            "X: y\r\n\r\n");
        text.Should().NotContain("one@example.net").And.NotContain("two@example.net");
    }

    [Fact]
    public async Task Save_that_is_aborted_midway_leaves_nothing_and_the_exception_propagates()
    {
        var store = CreateStore(addTraceHeaders: true);
        var stream = new ScriptedContentStream(Bytes(500_000), failAfter: 150_000, failure: new MessageAbortedException("client went away"));

        var act = async () => await store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), stream, CancellationToken.None);

        (await act.Should().ThrowAsync<MessageAbortedException>()).WithMessage("client went away");
        _temp.Files("new").Should().BeEmpty();
        _temp.Files("tmp").Should().BeEmpty();
    }

    [Fact]
    public async Task Save_that_fails_before_any_content_leaves_nothing()
    {
        var store = CreateStore();
        var stream = new ScriptedContentStream(Bytes(10), failAfter: 0, failure: new IOException("disk on fire"));

        var act = async () => await store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), stream, CancellationToken.None);

        await act.Should().ThrowAsync<IOException>().WithMessage("disk on fire");
        _temp.Files("new").Should().BeEmpty();
        _temp.Files("tmp").Should().BeEmpty();
    }

    [Fact]
    public async Task Save_that_is_cancelled_midway_leaves_nothing_and_the_cancellation_propagates()
    {
        var store = CreateStore();
        var stream = new ScriptedContentStream(Bytes(500_000), failAfter: 100_000, hangAtFailurePoint: true);
        using var cts = new CancellationTokenSource();

        var save = store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), stream, cts.Token).AsTask();
        await stream.Waiting.Task.WaitAsync(TimeSpan.FromSeconds(10));
        _temp.Files("tmp").Should().ContainSingle("the message is being written to tmp/");
        await cts.CancelAsync();

        var act = () => save;
        await act.Should().ThrowAsync<OperationCanceledException>();
        _temp.Files("new").Should().BeEmpty();
        _temp.Files("tmp").Should().BeEmpty();
    }

    [Fact]
    public async Task Save_cancelled_after_the_last_byte_but_before_the_move_keeps_nothing()
    {
        var store = CreateStore();
        using var cts = new CancellationTokenSource();
        var stream = new ScriptedContentStream(Bytes(1000)) { OnEnd = cts.Cancel };

        var act = async () => await store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), stream, cts.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
        _temp.Files("new").Should().BeEmpty();
        _temp.Files("tmp").Should().BeEmpty();
    }

    [Fact]
    public async Task Save_with_an_already_cancelled_token_creates_no_file()
    {
        var store = CreateStore();

        var act = async () => await store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), new MemoryStream([1]), new CancellationToken(canceled: true));

        await act.Should().ThrowAsync<OperationCanceledException>();
        _temp.Files("new").Should().BeEmpty();
        _temp.Files("tmp").Should().BeEmpty();
    }

    [Fact]
    public async Task Concurrent_saves_produce_distinct_complete_files()
    {
        const int count = 200;
        var store = new MaildirMessageStore(new MaildirStoreOptions { Path = _temp.Maildir, AddTraceHeaders = false });

        var replies = await Task.WhenAll(Enumerable.Range(0, count).Select(i => Task.Run(async () =>
        {
            var content = Encoding.ASCII.GetBytes($"Message-Id: <{i}@test>\r\n\r\n" + new string('x', i * 50) + "\r\n");
            return await store.SaveAsync(Session(id: "c" + i), Envelope("a@example.org", "b@example.net"), new ScriptedContentStream(content), CancellationToken.None);
        })));

        replies.Select(r => r.Message).Should().OnlyHaveUniqueItems();
        var files = _temp.Files("new");
        files.Should().HaveCount(count);
        files.Select(Path.GetFileName).Should().OnlyHaveUniqueItems();
        var ids = new HashSet<int>();
        foreach (var file in files)
        {
            var text = await File.ReadAllTextAsync(file);
            var i = int.Parse(text["Message-Id: <".Length..text.IndexOf('@', StringComparison.Ordinal)]);
            text.Should().Be($"Message-Id: <{i}@test>\r\n\r\n" + new string('x', i * 50) + "\r\n");
            ids.Add(i).Should().BeTrue();
        }

        _temp.Files("tmp").Should().BeEmpty();
    }

    [SkippableFact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // The Skip.If below is the guard; the analyzer cannot see it.
    public async Task Messages_are_readable_only_by_their_owner_on_unix()
    {
        Skip.If(OperatingSystem.IsWindows(), "Unix file modes do not exist on Windows");

        var store = CreateStore();
        await store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), new MemoryStream([1]), CancellationToken.None);

        var mode = File.GetUnixFileMode(_temp.Files("new").Single());
        (mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)).Should().Be(UnixFileMode.None);
    }

    [Fact]
    public async Task Save_keeps_working_with_directory_fsync_on()
    {
        var store = new MaildirMessageStore(new MaildirStoreOptions { Path = _temp.Maildir, AddTraceHeaders = false, FsyncDirectory = true });

        var reply = await store.SaveAsync(Session(remoteEndPoint: new IPEndPoint(IPAddress.IPv6Loopback, 1)), Envelope("a@example.org", "b@example.net"), new MemoryStream([1, 2, 3]), CancellationToken.None);

        reply.IsPositive.Should().BeTrue();
        _temp.Files("new").Should().ContainSingle();
    }

    [Fact]
    public void Directory_fsync_works_on_linux_and_macos_and_reports_a_missing_directory()
    {
        var synced = DirectorySync.Fsync(_temp.Path);

        synced.Should().Be(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS());
        if (synced)
        {
            var act = () => DirectorySync.Fsync(Path.Combine(_temp.Path, "missing"));
            act.Should().Throw<IOException>().WithMessage("*open*missing*");
        }
    }
}
