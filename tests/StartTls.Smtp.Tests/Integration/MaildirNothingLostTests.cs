using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tests.Storage;
using Xunit.Abstractions;

namespace StartTls.Smtp.Tests.Integration;

/// <summary>
/// "Nothing lost" with the real <see cref="StartTls.Smtp.Storage.MaildirMessageStore"/> on disk: a failed or
/// aborted message leaves nothing in <c>new/</c> or <c>tmp/</c>, every acknowledged message is there byte for byte,
/// and 250 comes only after the store is done.
/// </summary>
public sealed class MaildirNothingLostTests(ITestOutputHelper output)
{
    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    [Fact(Timeout = 30_000)]
    public async Task Store_failing_mid_message_gives_451_and_leaves_no_file()
    {
        using var maildir = new TempMaildir();
        var store = new ObservedStore(maildir.CreateStore()) { FailAfterBytes = 1000 };
        await using var server = await TestServer.StartAsync(store: store);
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().StartWith("250");

        var content = Ascii("Subject: doomed\r\n\r\n" + string.Concat(Enumerable.Repeat("a line of text that will not be kept\r\n", 2000)));
        var reply = await SmtpWire.SendMessageAsync(client, "a@c.test", "b@s.test", content);

        reply.Should().StartWith("451 4.3.0");
        var outcome = await store.FirstOutcome.Task.WaitAsync(TimeSpan.FromSeconds(5));
        outcome.Should().BeOfType<IOException>("the Maildir store rethrows after cleaning up");
        maildir.New.Should().BeEmpty();
        maildir.Tmp.Should().BeEmpty("the partly written file is deleted");

        // The session goes on: a message small enough to be read whole before the simulated failure is stored.
        var small = Ascii("Subject: small\r\n\r\nfits\r\n");
        (await SmtpWire.SendMessageAsync(client, "a@c.test", "b@s.test", small)).Should().StartWith("250 2.0.0");
        maildir.New.Should().ContainSingle();
        (await File.ReadAllBytesAsync(maildir.New[0])).Should().Equal(small);
        maildir.Tmp.Should().BeEmpty();
        (await client.CommandAsync("QUIT")).Should().StartWith("221");
    }

    [Theory(Timeout = 30_000)]
    [InlineData(28, "452 4.3.1", LogLevel.Warning, false)] // ENOSPC: no stack trace
    [InlineData(5, "451 4.3.0", LogLevel.Error, true)] // EIO
    public async Task A_disk_failure_is_answered_and_logged_once_by_the_store_and_the_session_goes_on(int errno, string expectedReply, LogLevel expectedLevel, bool withException)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // the errno values are Linux's
        }

        using var maildir = new TempMaildir();
        var logs = new FakeLogCollector();
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Trace).AddProvider(new FakeLoggerProvider(logs)));
        var flushes = 0;
        var disk = new ScriptedDiskSync
        {
            FailFileSync = _ => Interlocked.Increment(ref flushes) == 1, // the first message only
            FileSyncFailure = () => new IOException("scripted disk failure", errno),
        };
        var store = new MaildirMessageStore(new MaildirStoreOptions { Path = maildir.Path, AddTraceHeaders = false }, loggerFactory.CreateLogger<MaildirMessageStore>(), TimeProvider.System, disk);
        await using var server = await TestServer.StartAsync(store: store, loggerFactory: loggerFactory);
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().StartWith("250");

        var reply = await SmtpWire.SendMessageAsync(client, "a@c.test", "b@s.test", Ascii("Subject: first\r\n\r\n" + string.Concat(Enumerable.Repeat("a line of the message that fails\r\n", 3000))));

        reply.Should().StartWith(expectedReply);
        maildir.New.Should().BeEmpty();
        maildir.Tmp.Should().BeEmpty();
        var second = Ascii("Subject: second\r\n\r\nfits\r\n");
        (await SmtpWire.SendMessageAsync(client, "a@c.test", "b@s.test", second)).Should().StartWith("250 2.0.0");
        (await File.ReadAllBytesAsync(maildir.New.Should().ContainSingle().Subject)).Should().Equal(second);
        (await client.CommandAsync("QUIT")).Should().StartWith("221");

        var records = logs.GetSnapshot();
        var failure = records.Where(r => r.Level >= LogLevel.Warning).Should().ContainSingle("the failure is logged once, by the store").Subject;
        failure.Level.Should().Be(expectedLevel);
        failure.Category.Should().Be(typeof(MaildirMessageStore).FullName);
        (failure.Exception is not null).Should().Be(withException);
        records.Where(r => r.Exception is not null).Should().HaveCount(withException ? 1 : 0, "one stack trace at most");
        var refused = "Message refused with " + expectedReply[..3];
        records.Should().Contain(r => r.Message.Contains(refused, StringComparison.Ordinal), "the connection notes the refusal, without the exception");
    }

    [Fact(Timeout = 30_000)]
    public async Task Client_vanishing_in_the_middle_of_DATA_leaves_no_file()
    {
        using var maildir = new TempMaildir();
        var store = new ObservedStore(maildir.CreateStore());
        await using var server = await TestServer.StartAsync(store: store);
        var client = await server.ConnectAsync();
        try
        {
            (await client.EhloAsync()).Should().StartWith("250");
            await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\n");
            var replies = await client.ReadRepliesAsync(3);
            replies[2].Should().StartWith("354");

            await client.SendAsync("Subject: half\r\n\r\n" + string.Concat(Enumerable.Repeat("first half of the message\r\n", 100)) + "and a partial li");
            await store.FirstBytesRead.Task.WaitAsync(TimeSpan.FromSeconds(5));
            maildir.Tmp.Should().ContainSingle("the store is writing the message into tmp/");
        }
        finally
        {
            // Vanish: no terminator, no QUIT.
            await client.DisposeAsync();
        }

        var outcome = await store.FirstOutcome.Task.WaitAsync(TimeSpan.FromSeconds(5));
        outcome.Should().BeAssignableTo<Exception>("the store is told the message was aborted, it does not return a reply");
        (await Eventually.HoldsAsync(() => maildir.Tmp.Length == 0 && maildir.New.Length == 0))
            .Should().BeTrue($"nothing is kept; tmp: [{string.Join(", ", maildir.Tmp)}], new: [{string.Join(", ", maildir.New)}]");
        (await Eventually.HoldsAsync(() => server.Server.ConnectionCount == 0)).Should().BeTrue();
    }

    [Fact(Timeout = 60_000)]
    public async Task Thousand_messages_from_fifty_concurrent_clients_are_all_stored_byte_for_byte()
    {
        const int clients = 50;
        const int messagesPerClient = 20;
        using var maildir = new TempMaildir();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.MaxConnectionsPerIp = 0;
            o.MaxConnections = 200;
        }, store: maildir.CreateStore());

        var expected = new ConcurrentDictionary<string, byte[]>();
        var stopwatch = Stopwatch.StartNew();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(45));

        async Task RunClientAsync(int clientIndex)
        {
            var random = new Random(1000 + clientIndex);
            await using var client = await server.ConnectAsync();
            (await client.EhloAsync($"client{clientIndex}.test")).Should().Contain("8BITMIME");
            for (var m = 0; m < messagesPerClient; m++)
            {
                cts.Token.ThrowIfCancellationRequested();
                var id = $"c{clientIndex:00}-m{m:00}";
                var content = MessageGenerator.Create(id, random);
                expected[id] = content;
                var reply = await SmtpWire.SendMessageAsync(client, $"sender{clientIndex}@c.test", $"rcpt{m}@s.test", content, " BODY=8BITMIME");
                reply.Should().StartWith("250 2.0.0", $"message {id} ({content.Length} octets) is accepted");
            }

            (await client.CommandAsync("QUIT")).Should().StartWith("221");
        }

        await Task.WhenAll(Enumerable.Range(0, clients).Select(i => Task.Run(() => RunClientAsync(i))));
        var elapsed = stopwatch.Elapsed;

        expected.Should().HaveCount(clients * messagesPerClient);
        maildir.Tmp.Should().BeEmpty();
        var files = maildir.New;
        files.Should().HaveCount(clients * messagesPerClient);

        var seen = new HashSet<string>();
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file);
            var id = MessageGenerator.ReadId(bytes);
            id.Should().NotBeNull($"{file} carries its X-Test-Id");
            seen.Add(id!).Should().BeTrue($"{id} is stored once");
            var sent = expected[id!];
            if (!bytes.AsSpan().SequenceEqual(sent))
            {
                var at = bytes.AsSpan().CommonPrefixLength(sent);
                Assert.Fail($"{id}: stored {bytes.Length} octets, sent {sent.Length}; first difference at offset {at}: "
                    + $"stored '{Excerpt(bytes, at)}' vs sent '{Excerpt(sent, at)}'");
            }
        }

        seen.Should().HaveCount(clients * messagesPerClient);
        output.WriteLine($"{clients * messagesPerClient} messages, {expected.Values.Sum(c => (long)c.Length)} octets: sent and acknowledged in {elapsed.TotalSeconds:F1} s, verified in {stopwatch.Elapsed.TotalSeconds:F1} s");
    }

    [Fact(Timeout = 30_000)]
    public async Task Slow_store_the_250_arrives_only_after_the_store_returned()
    {
        using var maildir = new TempMaildir();
        var delay = TimeSpan.FromMilliseconds(200);
        var store = new ObservedStore(maildir.CreateStore()) { DelayAfterSave = delay };
        await using var server = await TestServer.StartAsync(store: store);
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().StartWith("250");

        for (var i = 0; i < 3; i++)
        {
            await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\n");
            (await client.ReadRepliesAsync(3))[2].Should().StartWith("354");

            var content = Ascii($"Subject: slow {i}\r\n\r\nbody {i}\r\n");
            var sentAt = Stopwatch.GetTimestamp();
            await client.SendAsync(SmtpWire.ToDataBlock(content));
            var reply = await client.ReadReplyAsync();
            var repliedAt = Stopwatch.GetTimestamp();

            reply.Should().StartWith("250 2.0.0");
            store.CompletedAt.Should().HaveCount(i + 1);
            var storeDoneAt = store.CompletedAt.Last();
            repliedAt.Should().BeGreaterThanOrEqualTo(storeDoneAt, "the client hears 250 only once the store has returned");
            Stopwatch.GetElapsedTime(sentAt, repliedAt).Should().BeGreaterThanOrEqualTo(delay - TimeSpan.FromMilliseconds(5));
            maildir.New.Should().HaveCount(i + 1, "the message is in new/ by the time 250 arrives");
        }

        maildir.Tmp.Should().BeEmpty();
    }

    [Fact(Timeout = 30_000)]
    public async Task Line_of_998_octets_starting_with_a_dot_is_accepted_although_stuffing_makes_it_999_on_the_wire()
    {
        // RFC 5321 §4.5.3.1.6: 1000 octets per text line including CRLF, "not counting the leading dot duplicated
        // for transparency". A client that sends a legal 998-octet line starting with '.' puts 999 + CRLF on the wire.
        using var maildir = new TempMaildir();
        await using var server = await TestServer.StartAsync(store: maildir.CreateStore());
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().StartWith("250");

        var longDotLine = "." + new string('d', 997);
        var content = Ascii("Subject: long dot line\r\n\r\n" + longDotLine + "\r\n" + new string('x', 998) + "\r\n");
        var reply = await SmtpWire.SendMessageAsync(client, "a@c.test", "b@s.test", content);

        reply.Should().StartWith("250 2.0.0");
        (await File.ReadAllBytesAsync(maildir.New.Should().ContainSingle().Subject)).Should().Equal(content);

        // One octet more is over the limit, stuffed or not.
        var tooLong = Ascii("Subject: too long\r\n\r\n." + new string('d', 998) + "\r\n");
        (await SmtpWire.SendMessageAsync(client, "a@c.test", "b@s.test", tooLong)).Should().StartWith("500 5.5.2");
        maildir.New.Should().ContainSingle();
        maildir.Tmp.Should().BeEmpty();
    }

    private static string Excerpt(byte[] bytes, int at)
    {
        var start = Math.Max(0, at - 20);
        var length = Math.Min(bytes.Length - start, 40);
        return SmtpWire.Latin1(bytes.AsSpan(start, length)).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
    }

    /// <summary>Unique messages of varied sizes with dot lines, 998-octet lines and 8-bit octets.</summary>
    private static class MessageGenerator
    {
        private static readonly byte[] IdHeader = "X-Test-Id: "u8.ToArray();

        public static byte[] Create(string id, Random random)
        {
            var output = new MemoryStream();
            void Line(string text) => output.Write(Encoding.Latin1.GetBytes(text + "\r\n"));

            // Some messages start with a dot on the very first line (it is stuffed too).
            if (random.Next(4) == 0)
            {
                Line(".first line of the message starts with a dot");
            }

            Line("X-Test-Id: " + id);
            Line($"Message-ID: <{id}@test>");
            Line("Subject: load " + id);
            Line("MIME-Version: 1.0");
            Line("Content-Type: text/plain; charset=iso-8859-1");
            Line("Content-Transfer-Encoding: 8bit");
            Line(string.Empty);

            // Sizes from a few hundred octets to about 200 KB, most of them small.
            var target = random.Next(10) switch
            {
                0 => random.Next(100_000, 200_000),
                < 4 => random.Next(10_000, 40_000),
                _ => random.Next(100, 5_000),
            };

            var line = new byte[998];
            while (output.Length < target)
            {
                int length;
                switch (random.Next(12))
                {
                    case 0:
                        // A line of exactly 998 octets (the limit without CRLF); or a 997-octet line starting with a dot,
                        // 998 on the wire once stuffed. (A 998-octet line starting with a dot has its own test above.)
                        length = 998;
                        Fill(line.AsSpan(0, length), random, eightBit: random.Next(2) == 0);
                        if (line[0] == (byte)'.' || random.Next(2) == 0)
                        {
                            length = 997;
                            line[0] = (byte)'.';
                        }

                        break;
                    case 1:
                        output.Write(random.Next(3) switch { 0 => "."u8, 1 => ".."u8, _ => "..."u8 });
                        output.Write("\r\n"u8);
                        continue;
                    case 2:
                        length = random.Next(1, 200);
                        Fill(line.AsSpan(0, length), random, eightBit: false);
                        line[0] = (byte)'.';
                        break;
                    case 3:
                        length = 0;
                        break;
                    case 4 or 5:
                        length = random.Next(1, 300);
                        Fill(line.AsSpan(0, length), random, eightBit: true);
                        break;
                    default:
                        length = random.Next(1, 120);
                        Fill(line.AsSpan(0, length), random, eightBit: false);
                        break;
                }

                output.Write(line, 0, length);
                output.Write("\r\n"u8);
            }

            Line("end of " + id);
            return output.ToArray();
        }

        public static string? ReadId(byte[] content)
        {
            var at = content.AsSpan().IndexOf(IdHeader);
            if (at < 0)
            {
                return null;
            }

            var start = at + IdHeader.Length;
            var end = content.AsSpan(start).IndexOf((byte)'\r');
            return end < 0 ? null : Encoding.ASCII.GetString(content, start, end);
        }

        private static void Fill(Span<byte> span, Random random, bool eightBit)
        {
            for (var i = 0; i < span.Length; i++)
            {
                // Printable ASCII and tab; with eightBit, also every octet from 0x80 to 0xFF. Never NUL, CR or LF.
                var pick = random.Next(eightBit ? 4 : 40);
                span[i] = pick switch
                {
                    0 when eightBit => (byte)random.Next(0x80, 0x100),
                    1 when !eightBit => (byte)'\t',
                    _ => (byte)random.Next(0x20, 0x7F),
                };
            }
        }
    }
}
