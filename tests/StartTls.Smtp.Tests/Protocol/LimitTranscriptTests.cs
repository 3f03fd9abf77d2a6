using System.Net;
using System.Net.Sockets;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>The bad-command limit (T40) and the connection limits, overall and per address.</summary>
public sealed class LimitTranscriptTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task The_nth_error_is_answered_then_421_4_7_0_and_close(int limit)
    {
        await using var server = await TestServer.StartAsync(o => o.MaxBadCommands = limit);
        await using var client = await server.ConnectAsync();
        for (var i = 1; i < limit; i++)
        {
            (await client.CommandCodeAsync("XYZZY")).Should().Be("500 5.5.1");
            (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0", "successful commands do not reset or count");
        }

        await client.SendAsync("XYZZY\r\n");
        (await client.ReadRepliesAsync(2)).Select(RawSmtpClientExtensions.Code).Should().Equal("500 5.5.1", "421 4.7.0");
        (await client.IsClosedAsync()).Should().BeTrue();
    }

    [Fact]
    public async Task T40_twenty_five_pipelined_bad_commands_with_the_default_limit()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.SendAsync(string.Concat(Enumerable.Repeat("XYZZY\r\n", 25)));
        var lines = (await client.ReadToEndAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        lines.Select(RawSmtpClientExtensions.Code).Should().Equal(Enumerable.Repeat("500 5.5.1", 20).Append("421 4.7.0"));
    }

    [Fact]
    public async Task T40_refused_recipients_count_as_errors()
    {
        var filter = new DelegateMailboxFilter(recipient: _ => SmtpReply.MailboxUnavailable);
        await using var server = await TestServer.StartAsync(filter: filter);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("MAIL FROM:<a@c.test>\r\n" + string.Concat(Enumerable.Range(0, 60).Select(i => $"RCPT TO:<u{i}@s.test>\r\n")));
        var lines = (await client.ReadToEndAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        lines.Select(RawSmtpClientExtensions.Code).Should().Equal(
            new[] { "250 2.1.0" }.Concat(Enumerable.Repeat("550 5.1.1", 20)).Append("421 4.7.0"));
    }

    [Fact]
    public async Task Every_kind_of_error_reply_counts()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxBadCommands = 5);
        await using var client = await server.ConnectAsync();
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test>")).Should().Be("503 5.5.1");
        (await client.CommandCodeAsync("EHLO")).Should().Be("501 5.5.4");
        (await client.CommandCodeAsync("EXPN x")).Should().Be("502 5.5.1");
        (await client.CommandCodeAsync("NOOP " + new string('x', 2000))).Should().Be("500 5.5.2");
        await client.SendAsync("BOGUS\r\n");
        (await client.ReadRepliesAsync(2)).Select(RawSmtpClientExtensions.Code).Should().Equal("500 5.5.1", "421 4.7.0");
        (await client.IsClosedAsync()).Should().BeTrue();
    }

    [Fact]
    public async Task Connections_over_the_overall_limit_get_421_4_7_0()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.MaxConnections = 2;
            o.MaxConnectionsPerIp = 0;
        });
        var first = await server.ConnectAsync();
        await using var second = await server.ConnectAsync();
        await using (var third = await server.ConnectAsync(readGreeting: false))
        {
            (await third.ReadReplyAsync()).Should().Be("421 4.7.0 Too many connections, try again later");
            (await third.IsClosedAsync()).Should().BeTrue();
        }

        (await first.CommandCodeAsync("QUIT")).Should().Be("221 2.0.0");
        (await first.IsClosedAsync()).Should().BeTrue();
        await first.DisposeAsync(); // the server lingers until the client closes its side too
        (await ConnectWhenFreeAsync(server)).Should().StartWith("220 ", "a slot is free again once a connection has ended");
        (await second.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task Connections_over_the_per_address_limit_get_421_4_7_0()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.MaxConnections = 10;
            o.MaxConnectionsPerIp = 2;
        });
        var first = await server.ConnectAsync();
        await using var second = await server.ConnectAsync();
        await using (var third = await server.ConnectAsync(readGreeting: false))
        {
            (await third.ReadReplyAsync()).Should().Be("421 4.7.0 Too many connections from your address, try again later");
            (await third.IsClosedAsync()).Should().BeTrue();
        }

        // Another loopback source address has its own count.
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        other.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        await other.ConnectAsync(server.EndPoint);
        var buffer = new byte[256];
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var read = await other.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        System.Text.Encoding.ASCII.GetString(buffer, 0, read).Should().StartWith("220 ");

        (await first.CommandCodeAsync("QUIT")).Should().Be("221 2.0.0");
        (await first.IsClosedAsync()).Should().BeTrue();
        await first.DisposeAsync(); // the server lingers until the client closes its side too
        (await ConnectWhenFreeAsync(server)).Should().StartWith("220 ");
    }

    [Fact]
    public async Task Refused_connections_do_not_take_a_slot()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.MaxConnections = 1;
            o.MaxConnectionsPerIp = 1;
        });
        var first = await server.ConnectAsync();
        for (var i = 0; i < 5; i++)
        {
            await using var refused = await server.ConnectAsync(readGreeting: false);
            (await refused.ReadCodeAsync()).Should().Be("421 4.7.0");
        }

        (await first.CommandCodeAsync("QUIT")).Should().Be("221 2.0.0");
        await first.DisposeAsync();
        (await ConnectWhenFreeAsync(server)).Should().StartWith("220 ");
        server.Server.ConnectionCount.Should().BeLessThanOrEqualTo(1);
    }

    /// <summary>The server releases a slot a moment after the client sees the close (no event says when); retry until it has.</summary>
    private static async Task<string> ConnectWhenFreeAsync(TestServer server)
    {
        var reply = "";
        await Eventually.HoldsAsync(async () =>
        {
            await using var client = await server.ConnectAsync(readGreeting: false);
            reply = await client.ReadReplyAsync();
            return reply.StartsWith("220 ", StringComparison.Ordinal);
        });
        return reply;
    }
}
