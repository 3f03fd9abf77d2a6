using System.Text;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// The content stream the store reads from pulls straight off the connection and decodes into the store's buffer:
/// whatever buffer sizes and read styles the store uses, it must see exactly the delivered message.
/// </summary>
public sealed class ContentStreamTranscriptTests
{
    public static TheoryData<int, BareLineEndingHandling> ReadSizes()
    {
        var data = new TheoryData<int, BareLineEndingHandling>();
        foreach (var size in new[] { 1, 2, 3, 5, 63, 64, 65, 66, 67, 100, 1000, 4096, 65536 })
        {
            data.Add(size, BareLineEndingHandling.Reject);
            data.Add(size, BareLineEndingHandling.Normalize);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ReadSizes))]
    public async Task Every_read_buffer_size_gets_exactly_the_delivered_content(int readSize, BareLineEndingHandling mode)
    {
        var (wire, expected) = BuildMessage(mode);
        var stored = new TaskCompletionSource<byte[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        var store = new DelegateMessageStore(async (content, ct) =>
        {
            var collected = new MemoryStream();
            var buffer = new byte[readSize];
            int read;
            while ((read = await content.ReadAsync(buffer, ct)) > 0)
            {
                read.Should().BeLessThanOrEqualTo(readSize);
                collected.Write(buffer, 0, read);
            }

            stored.TrySetResult(collected.ToArray());
            return SmtpReply.MessageAccepted;
        });
        await using var server = await TestServer.StartAsync(o => o.BareLineEndings = mode, store);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();

        // Several writes of awkward sizes, so reads see segment ends in odd places.
        for (var offset = 0; offset < wire.Length; offset += 777)
        {
            await client.SendAsync(wire.AsSpan(offset, Math.Min(777, wire.Length - offset)).ToArray());
        }

        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
        Encoding.Latin1.GetString(await stored.Task.WaitAsync(TimeSpan.FromSeconds(5))).Should().Be(Encoding.Latin1.GetString(expected));
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task A_store_that_reads_synchronously_works()
    {
        var store = new DelegateMessageStore((content, _) =>
        {
            using var collected = new MemoryStream();
            content.CopyTo(collected, 100);
            return Task.FromResult(collected.Length == 60_000 ? SmtpReply.MessageAccepted : new SmtpReply(554, "5.0.0", "wrong length " + collected.Length));
        });
        await using var server = await TestServer.StartAsync(store: store);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync(string.Concat(Enumerable.Repeat(new string('s', 98) + "\r\n", 600)) + ".\r\n");
        (await client.ReadReplyAsync()).Should().StartWith("250 2.0.0");
    }

    [Fact]
    public async Task A_store_that_stops_half_way_and_claims_success_gets_451_and_the_session_goes_on()
    {
        var store = new DelegateMessageStore(async (content, ct) =>
        {
            var buffer = new byte[1000];
            await content.ReadExactlyAsync(buffer, ct);
            return SmtpReply.MessageAccepted;
        });
        await using var server = await TestServer.StartAsync(store: store);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync(string.Concat(Enumerable.Repeat(new string('h', 98) + "\r\n", 1000)) + ".\r\n");
        (await client.ReadCodeAsync()).Should().Be("451 4.3.0");
        (await client.CommandCodeAsync("RSET")).Should().Be("250 2.0.0");
        await client.StartDataAsync();
        (await client.CommandAsync("again\r\n.")).Should().StartWith("451 4.3.0");
    }

    [Fact]
    public async Task A_store_reading_over_the_size_limit_is_aborted_and_the_client_gets_552_after_the_final_dot()
    {
        var outcome = new TaskCompletionSource<(string Exception, bool Cancelled, long Read)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var store = new DelegateMessageStore(async (content, ct) =>
        {
            long total = 0;
            try
            {
                var buffer = new byte[4096];
                int read;
                while ((read = await content.ReadAsync(buffer, CancellationToken.None)) > 0)
                {
                    total += read;
                }

                outcome.TrySetResult(("none", ct.IsCancellationRequested, total));
                return SmtpReply.MessageAccepted;
            }
            catch (Exception ex)
            {
                outcome.TrySetResult((ex.GetType().Name, ct.IsCancellationRequested, total));

                // A store that insists on reading again is refused again.
                var again = async () => await content.ReadAsync(new byte[10], CancellationToken.None);
                await again.Should().ThrowAsync<MessageAbortedException>();
                throw;
            }
        });
        await using var server = await TestServer.StartAsync(o => o.MaxMessageSize = 50_000, store);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync(string.Concat(Enumerable.Repeat(new string('z', 998) + "\r\n", 60)));
        var (exception, cancelled, readBeforeAbort) = await outcome.Task.WaitAsync(TimeSpan.FromSeconds(5));
        exception.Should().Be(nameof(MessageAbortedException));
        cancelled.Should().BeTrue("the store's token is cancelled with the abort");
        readBeforeAbort.Should().BeLessThanOrEqualTo(50_000);
        (await client.IsSilentAsync()).Should().BeTrue("the reply waits for the final dot");
        await client.SendAsync(".\r\n");
        (await client.ReadCodeAsync()).Should().Be("552 5.3.4");
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task Messages_after_an_aborted_one_on_the_same_connection_are_whole()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxMessageSize = 2_000);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        (await client.CommandAsync(new string('q', 900) + "\r\n" + new string('q', 900) + "\r\n" + new string('q', 900) + "\r\n.")).Should().StartWith("552 5.3.4");
        await client.StartDataAsync();
        (await client.CommandAsync("Subject: second\r\n\r\n..dot\r\n.")).Should().StartWith("250 2.0.0");
        var message = server.Messages.Messages.Should().ContainSingle().Subject;
        message.GetContentAsString().Should().Be("Subject: second\r\n\r\n.dot\r\n");
    }

    private static (byte[] Wire, byte[] Expected) BuildMessage(BareLineEndingHandling mode)
    {
        var wire = new StringBuilder();
        var expected = new StringBuilder();
        void Line(string onWire, string delivered)
        {
            wire.Append(onWire);
            expected.Append(delivered);
        }

        Line("..first line was stuffed\r\n", ".first line was stuffed\r\n");
        Line("Subject: content stream\r\n\r\n", "Subject: content stream\r\n\r\n");
        for (var i = 0; i < 40; i++)
        {
            Line(new string((char)('a' + (i % 26)), i * 23 % 997) + "\r\n", new string((char)('a' + (i % 26)), i * 23 % 997) + "\r\n");
            Line("..\r\n", ".\r\n");
            Line("...two\r\n", "..two\r\n");
        }

        if (mode == BareLineEndingHandling.Normalize)
        {
            // Each bare LF or CR becomes CRLF: the output is twice the input here.
            Line(new string('\n', 300), string.Concat(Enumerable.Repeat("\r\n", 300)));
            Line("bare\rcr\r\n", "bare\r\ncr\r\n");
            Line("x\r\r\r\ny\r\n", "x\r\n\r\n\r\ny\r\n");
        }

        Line(new string('w', 998) + "\r\n", new string('w', 998) + "\r\n");
        wire.Append(".\r\n");
        return (Encoding.Latin1.GetBytes(wire.ToString()), Encoding.Latin1.GetBytes(expected.ToString()));
    }
}
