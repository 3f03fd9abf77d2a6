using System.IO.Pipelines;
using System.Text;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// LMTP endpoints (RFC 2033), served in memory: LHLO instead of HELO/EHLO (§4.1), and after the content one reply per
/// accepted recipient, in RCPT order (§4.2), whoever decides them: the store, its failure, or the limits.
/// </summary>
public sealed class LmtpTranscriptTests
{
    private const string Accepted = "250 2.0.0 Message accepted\r\n";
    private const string Envelope3 = "LHLO mta.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nRCPT TO:<c@s.test>\r\nRCPT TO:<d@s.test>\r\n";

    private static SmtpEndpointOptions Lmtp => new() { Name = "lmtp", Protocol = SmtpEndpointProtocol.Lmtp };

    [Fact]
    public async Task The_greeting_says_lmtp_and_lhlo_lists_the_extensions_with_pipelining_even_when_disabled()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.EnablePipelining = false;
            o.EnableDsn = true;
        });
        await using var connection = PipeConnection.Start(server.Server, Lmtp);

        (await connection.ReadReplyAsync()).Should().Be("220 mx.test LMTP ready");
        var lhlo = await connection.CommandAsync("LHLO mta.test");

        var lines = lhlo.Split("\r\n");
        lines[0].Should().Be("250-mx.test");
        lines.Select(l => l[4..]).Should().Contain(["PIPELINING", "8BITMIME", "SMTPUTF8", "DSN", "CHUNKING", "BINARYMIME", "ENHANCEDSTATUSCODES"]);
        lines.Should().Contain(l => l.StartsWith("250-SIZE ", StringComparison.Ordinal));
        lines[^1].Should().StartWith("250 ");
        (await connection.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("250 2.1.0 Sender OK");
    }

    [Fact]
    public async Task Helo_and_ehlo_are_refused_with_500_and_mail_needs_lhlo_first()
    {
        await using var server = await TestServer.StartAsync();
        await using var connection = PipeConnection.Start(server.Server, Lmtp);
        await connection.ReadReplyAsync();

        (await connection.CommandAsync("EHLO mta.test")).Should().Be("500 5.5.1 This is an LMTP service: use LHLO");
        (await connection.CommandAsync("HELO mta.test")).Should().Be("500 5.5.1 This is an LMTP service: use LHLO");
        (await connection.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("503 5.5.1 Send LHLO first");
        (await connection.CommandAsync("LHLO")).Should().Be("501 5.5.4 Syntax: LHLO domain");
        (await connection.CommandAsync("LHLO mta.test")).Should().StartWith("250-mx.test");
        connection.IsSilent().Should().BeTrue();
    }

    [Fact]
    public async Task Lhlo_on_an_smtp_endpoint_is_an_unknown_command()
    {
        await using var server = await TestServer.StartAsync();
        await using var connection = PipeConnection.Start(server.Server);

        (await connection.ReadReplyAsync()).Should().Be("220 mx.test ESMTP ready");
        (await connection.CommandAsync("LHLO mta.test")).Should().Be("500 5.5.1 Command unrecognized");
    }

    [Fact]
    public async Task Three_recipients_one_refused_at_rcpt_get_two_replies_after_the_data()
    {
        var filter = new DelegateMailboxFilter(recipient: r => r.Mailbox.Address == "c@s.test" ? SmtpReply.MailboxUnavailable : SmtpReply.RecipientOk);
        await using var server = await TestServer.StartAsync(filter: filter);

        var output = await RunAsync(server, Envelope3 + "DATA\r\n", "Subject: x\r\n\r\nhi\r\n.\r\nQUIT\r\n");

        output.Should().EndWith(
            "250 2.1.0 Sender OK\r\n250 2.1.5 Recipient OK\r\n550 5.1.1 Mailbox unavailable\r\n250 2.1.5 Recipient OK\r\n"
            + "354 Start mail input; end with <CRLF>.<CRLF>\r\n" + Accepted + Accepted + "221 2.0.0 Bye\r\n");
        server.Messages.Messages.Should().ContainSingle().Which.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("b@s.test", "d@s.test");
    }

    [Fact]
    public async Task A_per_recipient_store_answers_each_recipient_in_rcpt_order()
    {
        var store = LmtpTestStore.ByAddress(new Dictionary<string, SmtpReply> { ["c@s.test"] = SmtpReply.MailboxFull, ["d@s.test"] = SmtpReply.MailboxUnavailable });
        await using var server = await TestServer.StartAsync(store: store);

        var output = await RunAsync(server, Envelope3 + "DATA\r\n", "hi\r\n.\r\nQUIT\r\n");

        output.Should().EndWith("354 Start mail input; end with <CRLF>.<CRLF>\r\n"
            + Accepted + "452 4.2.2 Mailbox full, try again later\r\n550 5.1.1 Mailbox unavailable\r\n221 2.0.0 Bye\r\n");
        store.Contents.Should().Equal("hi\r\n");
        store.SingleReplyCalls.Should().Be(0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_content_verdict_that_replaces_the_store_s_reply_answers_every_recipient(bool refuse)
    {
        var store = LmtpTestStore.ByAddress(new Dictionary<string, SmtpReply> { ["c@s.test"] = SmtpReply.MailboxFull });
        await using var server = await TestServer.StartAsync(store: store, filter: new VerdictFilter(refuse ? SmtpReply.Spam : null));

        var output = await RunAsync(server, Envelope3 + "DATA\r\n", "hi\r\n.\r\nQUIT\r\n");

        output.Should().EndWith(refuse
            ? "554 5.7.1 Message rejected as spam\r\n554 5.7.1 Message rejected as spam\r\n554 5.7.1 Message rejected as spam\r\n221 2.0.0 Bye\r\n"
            : Accepted + "452 4.2.2 Mailbox full, try again later\r\n" + Accepted + "221 2.0.0 Bye\r\n",
            "a verdict speaks for the whole message; no verdict keeps the store's reply per recipient");
    }

    private sealed class VerdictFilter(SmtpReply? verdict) : IMailboxFilter, IMessageVerdictHook
    {
        public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken) => new(SmtpReply.SenderOk);

        public ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken) => new(SmtpReply.RecipientOk);

        public ValueTask<SmtpReply> OnMessageReceivedAsync(SmtpTransaction transaction, SmtpReply storeReply, CancellationToken cancellationToken) => new(verdict ?? storeReply);
    }

    [Fact]
    public async Task A_per_recipient_store_on_an_smtp_endpoint_gives_its_single_reply()
    {
        var store = LmtpTestStore.ByAddress(new Dictionary<string, SmtpReply> { ["c@s.test"] = SmtpReply.MailboxUnavailable });
        await using var server = await TestServer.StartAsync(store: store);
        await using var connection = PipeConnection.Start(server.Server);
        await connection.ReadReplyAsync();
        await connection.StartDataAsync();

        (await connection.CommandAsync("hi\r\n.")).Should().Be("250 2.0.0 Message accepted");
        store.SingleReplyCalls.Should().Be(1);
    }

    [Fact]
    public async Task Bdat_last_gets_one_reply_per_recipient()
    {
        var store = LmtpTestStore.ByAddress(new Dictionary<string, SmtpReply> { ["b@s.test"] = SmtpReply.MailboxUnavailable });
        await using var server = await TestServer.StartAsync(store: store);

        var output = await RunAsync(server, Envelope3 + "BDAT 3\r\nabcBDAT 2 LAST\r\nde", "QUIT\r\n");

        output.Should().EndWith("250 2.1.5 Recipient OK\r\n250 2.0.0 Chunk accepted\r\n"
            + "550 5.1.1 Mailbox unavailable\r\n" + Accepted + Accepted + "221 2.0.0 Bye\r\n");
        store.Contents.Should().Equal("abcde");
    }

    [Fact]
    public async Task A_store_that_throws_gets_451_for_every_recipient()
    {
        await using var server = await TestServer.StartAsync(store: DelegateMessageStore.ThrowsAfterReading());

        var output = await RunAsync(server, Envelope3 + "DATA\r\n", "hi\r\n.\r\nQUIT\r\n");

        output.Should().EndWith("354 Start mail input; end with <CRLF>.<CRLF>\r\n"
            + string.Concat(Enumerable.Repeat("451 4.3.0 Temporary failure, try again later\r\n", 3)) + "221 2.0.0 Bye\r\n");
    }

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public async Task A_store_that_returns_the_wrong_number_of_replies_gets_451_for_every_recipient(int count)
    {
        var store = new LmtpTestStore(_ => [.. Enumerable.Repeat(SmtpReply.MessageAccepted, count)]);
        using var logs = new LogCapture();
        await using var server = await TestServer.StartAsync(store: store, loggerFactory: logs);

        var output = await RunAsync(server, Envelope3 + "DATA\r\n", "hi\r\n.\r\nQUIT\r\n");

        output.Should().EndWith("354 Start mail input; end with <CRLF>.<CRLF>\r\n"
            + string.Concat(Enumerable.Repeat("451 4.3.0 Temporary failure, try again later\r\n", 3)) + "221 2.0.0 Bye\r\n");
        logs.All.Should().Contain($"returned {count} replies for 3 recipients");
    }

    [Fact]
    public async Task A_store_that_does_not_read_everything_gets_451_for_the_recipients_it_accepted()
    {
        var store = DelegateMessageStore.AcceptsWithoutReading();
        await using var server = await TestServer.StartAsync(store: store);

        var output = await RunAsync(server, Envelope3 + "DATA\r\n", string.Concat(Enumerable.Repeat(new string('x', 78) + "\r\n", 2_000)) + ".\r\nQUIT\r\n");

        output.Should().EndWith("354 Start mail input; end with <CRLF>.<CRLF>\r\n"
            + string.Concat(Enumerable.Repeat("451 4.3.0 Message store did not take the whole message, try again later\r\n", 3)) + "221 2.0.0 Bye\r\n");
    }

    [Fact]
    public async Task A_message_over_the_size_limit_gets_552_for_every_recipient()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxMessageSize = 16);

        var output = await RunAsync(server, Envelope3 + "DATA\r\n", new string('x', 40) + "\r\n.\r\nQUIT\r\n");

        output.Should().EndWith("354 Start mail input; end with <CRLF>.<CRLF>\r\n"
            + string.Concat(Enumerable.Repeat("552 5.3.4 Message size exceeds fixed maximum message size\r\n", 3)) + "221 2.0.0 Bye\r\n");
        server.Messages.Messages.Should().BeEmpty();
    }

    [Fact]
    public async Task A_bdat_chunk_over_the_limit_gets_one_reply_and_the_refused_last_chunk_one_per_recipient()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxMessageSize = 16);

        var output = await RunAsync(server, Envelope3 + "BDAT 40\r\n" + new string('a', 40) + "BDAT 2 LAST\r\nxy", "RSET\r\nQUIT\r\n");

        output.Should().EndWith("250 2.1.5 Recipient OK\r\n552 5.3.4 Message size exceeds fixed maximum message size\r\n"
            + string.Concat(Enumerable.Repeat("503 5.5.1 The BDAT transaction failed; send RSET\r\n", 3)) + "250 2.0.0 OK\r\n221 2.0.0 Bye\r\n");
    }

    [Fact]
    public async Task A_last_bdat_chunk_over_the_limit_gets_552_for_every_recipient()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxMessageSize = 16);

        var output = await RunAsync(server, Envelope3 + "BDAT 40 LAST\r\n" + new string('a', 40), "QUIT\r\n");

        output.Should().EndWith("250 2.1.5 Recipient OK\r\n"
            + string.Concat(Enumerable.Repeat("552 5.3.4 Message size exceeds fixed maximum message size\r\n", 3)) + "221 2.0.0 Bye\r\n");
    }

    [Fact]
    public async Task A_line_too_long_gets_500_for_every_recipient()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxTextLineLength = 1000);

        var output = await RunAsync(server, Envelope3 + "DATA\r\n", new string('x', 3000) + "\r\n.\r\nQUIT\r\n");

        output.Should().EndWith("354 Start mail input; end with <CRLF>.<CRLF>\r\n"
            + string.Concat(Enumerable.Repeat("500 5.5.2 Message content line too long\r\n", 3)) + "221 2.0.0 Bye\r\n");
    }

    [Fact]
    public async Task A_bare_line_feed_in_the_content_is_refused_for_every_recipient_and_closes()
    {
        await using var server = await TestServer.StartAsync(o => o.BareLineEndings = BareLineEndingHandling.Reject);

        var output = await RunAsync(server, Envelope3 + "DATA\r\n", "a\nb\r\n.\r\nQUIT\r\n");

        var refusal = output[(output.IndexOf("354 ", StringComparison.Ordinal) + "354 Start mail input; end with <CRLF>.<CRLF>\r\n".Length)..];
        var lines = refusal.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(3).And.OnlyContain(l => l == lines[0] && l.StartsWith('5'));
    }

    [Fact]
    public async Task Data_without_an_accepted_recipient_gets_503()
    {
        var filter = new DelegateMailboxFilter(recipient: _ => SmtpReply.MailboxUnavailable);
        await using var server = await TestServer.StartAsync(filter: filter);

        var output = await RunAsync(server, "LHLO mta.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\n", "QUIT\r\n");

        output.Should().EndWith("550 5.1.1 Mailbox unavailable\r\n503 5.5.1 No valid recipients\r\n221 2.0.0 Bye\r\n");
    }

    [Fact]
    public async Task A_whole_pipelined_bdat_transaction_in_one_write_gets_the_recipient_replies_in_one_flush()
    {
        var store = LmtpTestStore.ByAddress(new Dictionary<string, SmtpReply> { ["c@s.test"] = SmtpReply.MailboxFull, ["d@s.test"] = SmtpReply.MailboxUnavailable });
        await using var server = await TestServer.StartAsync(store: store);

        var flushes = await RunRecordingFlushesAsync(server, ("220 ", Envelope3 + "BDAT 5 LAST\r\nhelloQUIT\r\n"));

        flushes.Should().Contain(Accepted + "452 4.2.2 Mailbox full, try again later\r\n550 5.1.1 Mailbox unavailable\r\n",
            "the replies to the recipients are written together and flushed once");
        string.Concat(flushes).Should().EndWith("221 2.0.0 Bye\r\n");
        store.Contents.Should().Equal("hello");
    }

    [Fact]
    public async Task The_replies_after_data_go_out_in_one_flush()
    {
        await using var server = await TestServer.StartAsync();

        var flushes = await RunRecordingFlushesAsync(server, ("220 ", Envelope3 + "DATA\r\n"), ("354 ", "hi\r\n.\r\nQUIT\r\n"));

        flushes.Should().Contain(Accepted + Accepted + Accepted);
    }

    /// <summary>One session on an LMTP endpoint: each piece read by the server before the next is written, then the end of input; returns all it said.</summary>
    private static async Task<string> RunAsync(TestServer server, params string[] pieces)
    {
        await using var connection = PipeConnection.Start(server.Server, Lmtp);
        foreach (var piece in pieces)
        {
            await connection.SendPieceOrEndAsync(Encoding.Latin1.GetBytes(piece));
        }

        await connection.CompleteInputAsync();
        return await connection.ReadToEndAsync();
    }

    /// <summary>
    /// One session on an LMTP endpoint whose output records what each flush sent; each piece is written once a flush
    /// has sent its marker (the reply it answers), so a piece never joins a group it was not sent in.
    /// </summary>
    private static async Task<IReadOnlyList<string>> RunRecordingFlushesAsync(TestServer server, params (string Marker, string Text)[] pieces)
    {
        var toServer = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var toClient = new Pipe(new PipeOptions(useSynchronizationContext: false));
        var output = new FlushRecordingWriter(toClient.Writer);
        var session = server.Server.ServeAsync(new SmtpConnectionContext(new DuplexPipe(toServer.Reader, output)) { Endpoint = Lmtp }, CancellationToken.None);
        var drain = DrainAsync(toClient.Reader);
        foreach (var (marker, text) in pieces)
        {
            await output.WaitForFlushAsync(marker);
            await toServer.Writer.WriteAsync(Encoding.Latin1.GetBytes(text));
        }

        await session.WaitAsync(PipeConnection.DefaultTimeout);
        await toClient.Writer.CompleteAsync();
        await drain;
        return output.Flushes;
    }

    private static async Task DrainAsync(PipeReader reader)
    {
        while (true)
        {
            var result = await reader.ReadAsync();
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }

    /// <summary>A writer that passes everything on and records the text each flush sent.</summary>
    private sealed class FlushRecordingWriter(PipeWriter inner) : PipeWriter
    {
        private readonly List<string> _flushes = [];
        private readonly StringBuilder _pending = new();
        private readonly SemaphoreSlim _flushed = new(0);
        private Memory<byte> _lastMemory;

        public IReadOnlyList<string> Flushes
        {
            get
            {
                lock (_flushes)
                {
                    return [.. _flushes];
                }
            }
        }

        public async Task WaitForFlushAsync(string marker)
        {
            while (!Flushes.Any(f => f.Contains(marker, StringComparison.Ordinal)))
            {
                (await _flushed.WaitAsync(PipeConnection.DefaultTimeout)).Should().BeTrue("the server flushes before it waits for input");
            }
        }

        public override void Advance(int bytes)
        {
            _pending.Append(Encoding.Latin1.GetString(_lastMemory.Span[..bytes]));
            inner.Advance(bytes);
        }

        public override Memory<byte> GetMemory(int sizeHint = 0) => _lastMemory = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => (_lastMemory = inner.GetMemory(sizeHint)).Span;

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            lock (_flushes)
            {
                _flushes.Add(_pending.ToString());
                _pending.Clear();
            }

            var result = await inner.FlushAsync(cancellationToken);
            _flushed.Release();
            return result;
        }
    }
}
