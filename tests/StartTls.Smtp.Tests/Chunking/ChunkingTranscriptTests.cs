using System.Text;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Chunking;

/// <summary>
/// BDAT (RFC 3030, docs/threat-model.md T45–T49) on the wire, served in memory: each piece is read by the server before
/// the next is written, so "no reply yet" is exact. A chunk is framed by its octet count alone.
/// </summary>
public sealed class ChunkingTranscriptTests
{
    private static string Code(string reply) => RawSmtpClientExtensions.Code(reply);

    private static async Task<List<string>> ReadRepliesAsync(PipeConnection client, int count)
    {
        var replies = new List<string>();
        for (var i = 0; i < count; i++)
        {
            replies.Add(await client.ReadReplyAsync());
        }

        return replies;
    }

    /// <summary>EHLO, then MAIL FROM:&lt;a@c.test&gt; (with <paramref name="mailParameters"/>) and RCPT TO:&lt;b@s.test&gt;, both 250.</summary>
    private static async Task<PipeConnection> OpenTransactionAsync(TestServer server, string mailParameters = "")
    {
        var client = await PipeConnection.ConnectAsync(server);
        (await client.EhloAsync()).Should().Contain("250-CHUNKING").And.Contain("250-BINARYMIME");
        (await client.CommandAsync("MAIL FROM:<a@c.test>" + mailParameters)).Should().Be("250 2.1.0 Sender OK");
        (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().Be("250 2.1.5 Recipient OK");
        return client;
    }

    [Fact]
    public async Task T45_a_chunk_is_its_octet_count_whatever_it_holds_and_the_connection_stays_open()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("BDAT 13 LAST\r\nhi\r\n.\r\nQUIT\r\n");
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        client.IsSilent().Should().BeTrue("exactly one reply: the dot line and QUIT are content");
        (await client.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("hi\r\n.\r\nQUIT\r\n");
    }

    [Fact]
    public async Task Bdat_last_stores_binary_content_byte_exact_with_body_binarymime()
    {
        // Every octet value, with bare CR and LF, NUL, dot lines and no final CRLF: none is touched or refused.
        var content = new byte[512];
        for (var i = 0; i < content.Length; i++)
        {
            content[i] = (byte)(i * 7);
        }

        Encoding.ASCII.GetBytes("\r\n.\r\n..x\n.\r\r\0").CopyTo(content, 100);
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server, " BODY=BINARYMIME");
        await client.SendPieceAsync(Encoding.ASCII.GetBytes("BDAT 512 LAST\r\n").Concat(content).ToArray());
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        var message = server.Messages.Messages.Should().ContainSingle().Subject;
        message.Content.ToArray().Should().Equal(content);
        message.Envelope.BodyType.Should().Be(SmtpBodyType.BinaryMime);
    }

    [Fact]
    public async Task Bdat_10_last_stores_a_headerless_body_as_sent()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("BDAT 10 LAST\r\n0123456789");
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("0123456789");
    }

    [Fact]
    public async Task Several_chunks_then_bdat_0_last_store_their_concatenation_with_a_250_per_chunk()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server);
        string[] chunks = ["Subject: chunks\r\n", "\r\n", "line one\r\n.\r\n", "last line, no CRLF"];
        foreach (var chunk in chunks)
        {
            await client.SendPieceAsync($"BDAT {chunk.Length}\r\n{chunk}");
            (await client.ReadReplyAsync()).Should().Be("250 2.0.0 Chunk accepted", "each chunk is acknowledged once its octets are read");
            server.Messages.Count.Should().Be(0, "nothing is stored before LAST");
        }

        await client.SendPieceAsync("BDAT 0 LAST\r\n");
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        client.IsSilent().Should().BeTrue();
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be(string.Concat(chunks));
    }

    [Fact]
    public async Task A_whole_bdat_transaction_in_one_pipelined_write_gets_its_replies_in_order()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await PipeConnection.ConnectAsync(server);
        await client.SendPieceOrEndAsync(Encoding.ASCII.GetBytes("EHLO c.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nBDAT 5\r\nhelloBDAT 7\r\n world\nNOOP\r\nBDAT 0 LAST\r\nMAIL FROM:<c@c.test>\r\nRCPT TO:<d@s.test>\r\nBDAT 3 LAST\r\nxyzQUIT\r\n"));
        var replies = (await client.ReadToEndAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(line => !line.StartsWith("250-", StringComparison.Ordinal)).Select(Code);
        replies.Should().Equal("250 HELP", "250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.0.0", "250 2.0.0", "250 2.0.0", "250 2.1.0", "250 2.1.5", "250 2.0.0", "221 2.0.0");
        server.Messages.Messages.Select(m => m.GetContentAsString()).Should().Equal("hello world\n", "xyz");
    }

    [Fact]
    public async Task T47_bdat_outside_a_transaction_gets_503_and_its_octets_are_read_not_run()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await PipeConnection.ConnectAsync(server);
        await client.EhloAsync();
        await client.SendPieceAsync("BDAT 12 LAST\r\nNOOP\r\nNOOP\r\n");
        (await client.ReadReplyAsync()).Should().Be("503 5.5.1 Need MAIL and RCPT before BDAT");
        client.IsSilent().Should().BeTrue("exactly one 503 and no 250: the chunk is data");
        (await client.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task T47_bdat_before_ehlo_and_bdat_without_recipients_are_refused_after_their_chunk()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await PipeConnection.ConnectAsync(server);
        await client.SendPieceAsync("BDAT 6\r\nQUIT\r\n");
        Code(await client.ReadReplyAsync()).Should().Be("503 5.5.1");
        client.IsSilent().Should().BeTrue();
        await client.EhloAsync();
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
        await client.SendPieceAsync("BDAT 6 LAST\r\nQUIT\r\n");
        Code(await client.ReadReplyAsync()).Should().Be("554 5.5.1");
        client.IsSilent().Should().BeTrue();
        (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        await client.SendPieceAsync("BDAT 2 LAST\r\nok");
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("ok");
    }

    [Fact]
    public async Task T47_a_chunk_over_the_size_limit_gets_one_552_after_its_octets_and_the_session_goes_on()
    {
        const int Limit = 1048576;
        await using var server = await TestServer.StartAsync(o => o.MaxMessageSize = Limit);
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("BDAT 1048577 LAST\r\n" + new string('x', Limit - 8) + "NOOP\r\n\r\n");
        client.IsSilent().Should().BeTrue("no reply before the chunk's last octet");
        await client.SendPieceAsync("x");
        Code(await client.ReadReplyAsync()).Should().Be("552 5.3.4");
        client.IsSilent().Should().BeTrue("exactly one 552");
        (await client.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250", "a refused LAST chunk ends the transaction");
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task The_size_limit_holds_across_chunks_and_the_failed_transaction_refuses_chunks_until_rset()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxMessageSize = 100);
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("BDAT 60\r\n" + new string('a', 60));
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");

        // The second chunk takes the message to 120 octets: read to its end, then 552; the chunk pipelined behind it
        // is read too, and refused (RFC 3030 §2: discard the chunks already in the pipeline after a failed BDAT).
        await client.SendPieceAsync("BDAT 60\r\n" + new string('b', 54) + "NOOP\r\nBDAT 6 LAST\r\nNOOP\r\n");
        (await ReadRepliesAsync(client, 2)).Select(Code).Should().Equal("552 5.3.4", "503 5.5.1");
        client.IsSilent().Should().BeTrue();
        Code(await client.CommandAsync("DATA")).Should().Be("503 5.5.1");
        Code(await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("503 5.5.1");
        Code(await client.CommandAsync("RSET")).Should().Be("250 2.0.0");
        server.Messages.Count.Should().Be(0);

        await using var again = await OpenTransactionAsync(server);
        await again.SendPieceAsync("BDAT 100 LAST\r\n" + new string('c', 100));
        Code(await again.ReadReplyAsync()).Should().Be("250 2.0.0", "exactly the limit is accepted");
        server.Messages.Messages.Should().ContainSingle().Which.Content.Length.Should().Be(100);
    }

    [Fact]
    public async Task T49_data_after_a_bdat_chunk_gets_503_and_nothing_is_stored()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("BDAT 5\r\nhello");
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        (await client.CommandAsync("DATA")).Should().Be("503 5.5.1 DATA cannot follow BDAT in the same transaction; send RSET");
        await client.SendPieceAsync("BDAT 4 LAST\r\nmore");
        (await client.ReadReplyAsync()).Should().Be("503 5.5.1 The BDAT transaction failed; send RSET");
        (await client.CommandAsync("RSET")).Should().Be("250 2.0.0 OK");
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task T49_data_after_body_binarymime_gets_503_and_bdat_then_delivers()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server, " BODY=BINARYMIME");
        (await client.CommandAsync("DATA")).Should().Be("503 5.5.1 BODY=BINARYMIME requires BDAT, not DATA");
        await client.SendPieceAsync("BDAT 3 LAST\r\n\0\u00ff\n");
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.Content.ToArray().Should().Equal(0, 0xff, 0x0a);
    }

    [Fact]
    public async Task Data_and_bdat_may_be_used_in_the_same_session_in_different_transactions()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("BDAT 2 LAST\r\nb1");
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        (await client.CommandAsync("DATA")).Should().StartWith("354");
        Code(await client.CommandAsync("d1\r\n.")).Should().Be("250 2.0.0");
        server.Messages.Messages.Select(m => m.GetContentAsString()).Should().Equal("b1", "d1\r\n");
    }

    [Fact]
    public async Task T46_a_short_chunk_swallows_the_command_that_follows()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("BDAT 10 LAST\r\nabc");
        await client.SendPieceAsync("QUIT\r\n");
        client.IsSilent().Should().BeTrue("9 of 10 octets: the QUIT is content, and no reply is due");
        await client.SendPieceAsync("!");
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("abcQUIT\r\n!");
    }

    [Fact]
    public async Task T46_what_follows_a_long_chunk_is_parsed_as_a_command()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("BDAT 3 LAST\r\nabcdef\r\n");
        (await ReadRepliesAsync(client, 2)).Select(Code).Should().Equal("250 2.0.0", "500 5.5.1");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("abc");
    }

    public static TheoryData<string> UnframeableSizes => new()
    {
        "BDAT",
        "BDAT ",
        "BDAT -1",
        "BDAT 1e3",
        "BDAT 0x10",
        "BDAT +5",
        "BDAT  5",
        "BDAT 5 ",
        "BDAT 5  LAST",
        "BDAT 5 LAST x",
        "BDAT 5 LASTX",
        "BDAT 5 FIRST",
        "BDAT 5\tLAST",
        "BDAT 5.0",
        "BDAT \u0665",
    };

    [Theory]
    [MemberData(nameof(UnframeableSizes))]
    public async Task T48_a_size_that_cannot_be_read_gets_501_and_close_in_or_out_of_a_transaction(string command)
    {
        await using var server = await TestServer.StartAsync();
        foreach (var inTransaction in new[] { false, true })
        {
            await using var client = inTransaction ? await OpenTransactionAsync(server) : await PipeConnection.ConnectAsync(server);
            await client.SendPieceOrEndAsync(Encoding.Latin1.GetBytes(command + "\r\nNOOP\r\nNOOP\r\n"));
            var rest = await client.ReadToEndAsync();
            rest.Should().Be("501 5.5.4 Syntax: BDAT chunk-size [LAST]; the chunk cannot be framed, closing connection\r\n", "never a 250: nothing after the line runs");
        }

        server.Messages.Count.Should().Be(0);
    }

    [Theory]
    [InlineData("BDAT 99999999999999999999 LAST")]
    [InlineData("BDAT 1000000000000000000")]
    public async Task T48_a_size_too_large_to_ever_skip_gets_552_and_close(string command)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceOrEndAsync(Encoding.Latin1.GetBytes(command + "\r\nNOOP\r\n"));
        Code((await client.ReadToEndAsync()).TrimEnd()).Should().Be("552 5.3.4");
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task A_nul_in_a_bdat_line_closes_the_connection()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceOrEndAsync(Encoding.Latin1.GetBytes("BDAT 6\0 LAST\r\nNOOP\r\n"));
        Code((await client.ReadToEndAsync()).TrimEnd()).Should().Be("501 5.5.4");
    }

    [Fact]
    public async Task Leading_zeros_and_a_lower_case_last_are_valid()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("bdat 0003 last\r\nabc");
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("abc");
    }

    [Fact]
    public async Task Noop_between_chunks_keeps_the_message_and_rset_drops_it()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("BDAT 3\r\nabc");
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        (await client.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        await client.SendPieceAsync("BDAT 3 LAST\r\ndef");
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("abcdef");

        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        await client.SendPieceAsync("BDAT 3\r\nghi");
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        (await client.CommandAsync("RSET")).Should().Be("250 2.0.0 OK");
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250", "RSET ended the transaction");
        server.Messages.Count.Should().Be(1, "the chunk before RSET was dropped");
    }

    [Fact]
    public async Task Quit_between_chunks_closes_and_nothing_is_stored()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("BDAT 3\r\nabc");
        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        await client.SendPieceOrEndAsync(Encoding.Latin1.GetBytes("QUIT\r\n"));
        Code((await client.ReadToEndAsync()).TrimEnd()).Should().Be("221 2.0.0");
        server.Messages.Count.Should().Be(0);
    }

    [Theory]
    [InlineData("BDAT 100 LAST\r\nonly part of the chunk")]
    [InlineData("BDAT 5\r\nhelloBDAT 100 LAST\r\npart")]
    [InlineData("BDAT 5\r\nhelloBDAT 10")]
    public async Task A_client_disconnecting_mid_message_leaves_nothing_stored(string sent)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync(sent);
        await client.CompleteInputAsync();
        await client.Session;
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task A_store_that_stops_reading_early_still_has_the_chunks_read_in_step()
    {
        var store = new FirstBytesStore(4);
        await using var server = await TestServer.StartAsync(store: store);
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("BDAT 3\r\nabcBDAT 5\r\nNOOP\r");
        (await ReadRepliesAsync(client, 2)).Select(Code).Should().Equal("250 2.0.0", "250 2.0.0");
        await client.SendPieceAsync("BDAT 6 LAST\r\nQUIT\r\n");
        Code(await client.ReadReplyAsync()).Should().Be("451 4.3.0", "the store did not take the whole message");
        (await client.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        store.Seen.Should().Be("abcN");
    }

    [Fact]
    public async Task A_huge_chunk_streams_into_the_store_while_it_arrives()
    {
        // 32 MiB announced in one chunk: the store is reading the first octets while most of the chunk is still unsent,
        // so nothing holds the chunk whole (the input pipe's back-pressure would stall the sender otherwise).
        const int Piece = 64 * 1024;
        const int Pieces = 512;
        var store = new CountingStore();
        await using var server = await TestServer.StartAsync(o => o.MaxMessageSize = 64L << 20, store: store);
        await using var client = await OpenTransactionAsync(server);
        var piece = new byte[Piece];
        piece.AsSpan().Fill((byte)'x');
        await client.SendAsync($"BDAT {Piece * Pieces} LAST\r\n");
        for (var i = 0; i < Pieces / 4; i++)
        {
            await client.SendAsync(piece);
        }

        await store.FirstRead.Task.WaitAsync(PipeConnection.DefaultTimeout);
        store.Read.Should().BeLessThanOrEqualTo((long)Piece * Pieces / 4, "the store reads as the chunk arrives");
        for (var i = Pieces / 4; i < Pieces; i++)
        {
            await client.SendAsync(piece);
        }

        Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        store.Read.Should().Be((long)Piece * Pieces);
    }

    /// <summary>A store that reads the content in small pieces and keeps only their count.</summary>
    private sealed class CountingStore : StartTls.Smtp.Storage.IMessageStore
    {
        private long _read;

        public TaskCompletionSource FirstRead { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public long Read => Interlocked.Read(ref _read);

        public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
        {
            var buffer = new byte[4096];
            int read;
            while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
            {
                Interlocked.Add(ref _read, read);
                FirstRead.TrySetResult();
            }

            return SmtpReply.Ok;
        }
    }

    /// <summary>A store that reads a few bytes, then returns 250 without reading the rest.</summary>
    private sealed class FirstBytesStore(int count) : StartTls.Smtp.Storage.IMessageStore
    {
        public string Seen { get; private set; } = "";

        public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
        {
            var buffer = new byte[count];
            await content.ReadExactlyAsync(buffer, cancellationToken);
            Seen = Encoding.Latin1.GetString(buffer);
            return SmtpReply.Ok;
        }
    }
}
