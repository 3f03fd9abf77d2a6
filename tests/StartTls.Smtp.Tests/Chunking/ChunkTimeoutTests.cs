using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Chunking;

/// <summary>
/// BDAT under the data timeouts (docs/threat-model.md T46, T52): a chunk, the wait between chunks and a refused chunk
/// being dropped are all content. Each piece is read by the server before the fake clock moves.
/// </summary>
public sealed class ChunkTimeoutTests
{
    private static readonly TimeSpan Long = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private readonly FakeTimeProvider _time = new();

    private Task<TestServer> StartAsync(double blockSeconds = 3) => TestServer.StartAsync(
        o =>
        {
            o.CommandTimeout = Long;
            o.DataBlockTimeout = TimeSpan.FromSeconds(blockSeconds);
            o.DataTimeout = TimeSpan.FromSeconds(20);
        },
        timeProvider: _time);

    private static async Task<PipeConnection> OpenTransactionAsync(TestServer server)
    {
        var client = await PipeConnection.ConnectAsync(server);
        (await client.EhloAsync()).Should().StartWith("250");
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        return client;
    }

    private static async Task ExpectTimeoutAndCloseAsync(PipeConnection client)
    {
        (await client.ReadToEndAsync()).Should().Be("421 4.4.2 Timeout, closing connection\r\n");
        await client.Session;
    }

    [Fact]
    public async Task T46_a_short_chunk_ends_in_the_data_block_timeout_and_the_quit_after_it_never_runs()
    {
        await using var server = await StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("BDAT 10\r\nabc");
        await client.SendPieceAsync("QUIT\r\n");
        _time.Advance(TimeSpan.FromSeconds(2.5));
        client.IsSilent().Should().BeTrue("9 of 10 octets: no reply, and QUIT is content");

        _time.Advance(TimeSpan.FromSeconds(0.5) + Tick);
        await ExpectTimeoutAndCloseAsync(client);
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task The_wait_between_chunks_is_under_the_data_timeouts_not_the_command_timeout()
    {
        await using var server = await StartAsync();
        await using var client = await OpenTransactionAsync(server);
        await client.SendPieceAsync("BDAT 3\r\nabc");
        RawSmtpClientExtensions.Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        await client.WaitUntilServerWaitsAsync();
        _time.Advance(TimeSpan.FromSeconds(3) + Tick);
        await ExpectTimeoutAndCloseAsync(client);
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task A_bdat_message_is_held_to_the_absolute_data_timeout_across_chunks()
    {
        await using var server = await StartAsync(blockSeconds: 5);
        await using var client = await OpenTransactionAsync(server);
        for (var i = 0; i < 8; i++)
        {
            // Each chunk comes well within the 5 s block timeout, but 8 × 2.5 s reach the 20 s data timeout.
            await client.SendPieceAsync("BDAT 1\r\nx");
            RawSmtpClientExtensions.Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
            await client.WaitUntilServerWaitsAsync();
            client.IsSilent().Should().BeTrue();
            _time.Advance(TimeSpan.FromSeconds(2.5));
        }

        // 3.5 s since the last chunk: under the block timeout, past the message's absolute one.
        _time.Advance(Tick);
        await ExpectTimeoutAndCloseAsync(client);
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task A_refused_chunk_is_dropped_under_the_data_block_timeout()
    {
        await using var server = await StartAsync();
        await using var client = await PipeConnection.ConnectAsync(server);
        await client.EhloAsync();
        await client.SendPieceAsync("BDAT 100 LAST\r\nNOOP\r\n");
        _time.Advance(TimeSpan.FromSeconds(2.5));
        client.IsSilent().Should().BeTrue("the refusal comes after the chunk's last octet");
        _time.Advance(TimeSpan.FromSeconds(0.5) + Tick);
        await ExpectTimeoutAndCloseAsync(client);
    }
}
