using System.Diagnostics;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>Per-phase timeouts (421 4.4.2 and close) and the early-talker check (T44), with short settings.</summary>
public sealed class TimeoutTranscriptTests
{
    private static readonly TimeSpan Long = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Greeting_timeout_when_the_client_says_nothing()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.GreetingTimeout = TimeSpan.FromMilliseconds(300);
            o.CommandTimeout = Long;
        });
        var watch = Stopwatch.StartNew();
        await using var client = await server.ConnectAsync();
        (await client.ReadReplyAsync(TimeSpan.FromSeconds(3))).Should().Be("421 4.4.2 Timeout, closing connection");
        watch.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(250)).And.BeLessThan(TimeSpan.FromSeconds(2.5));
        (await client.IsClosedAsync()).Should().BeTrue();
    }

    [Fact]
    public async Task Greeting_timeout_is_absolute_for_a_trickled_first_command()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.GreetingTimeout = TimeSpan.FromMilliseconds(400);
            o.CommandTimeout = Long;
        });
        var watch = Stopwatch.StartNew();
        await using var client = await server.ConnectAsync();
        using var stop = new CancellationTokenSource();
        var trickle = TrickleAsync(client, "EHLO slowloris.test", TimeSpan.FromMilliseconds(50), stop.Token);
        (await client.ReadReplyAsync(TimeSpan.FromSeconds(3))).Should().Be("421 4.4.2 Timeout, closing connection");
        watch.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(350)).And.BeLessThan(TimeSpan.FromSeconds(2.5),
            "19 bytes at 50 ms would take 0.95 s; the greeting timeout is 0.4 s");
        await stop.CancelAsync();
        await trickle;
        (await client.IsClosedAsync()).Should().BeTrue();
    }

    [Fact]
    public async Task Command_timeout_is_an_absolute_limit_per_command_while_bytes_trickle_in()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.GreetingTimeout = Long;
            o.CommandTimeout = TimeSpan.FromMilliseconds(500);
        });
        await using var client = await server.ConnectAsync();
        var watch = Stopwatch.StartNew(); // before EHLO: the server's clock for the next command starts later than this
        (await client.EhloAsync()).Should().StartWith("250");
        using var stop = new CancellationTokenSource();
        var trickle = TrickleAsync(client, "MAIL FROM:<slowloris@c.test>", TimeSpan.FromMilliseconds(50), stop.Token);
        (await client.ReadReplyAsync(TimeSpan.FromSeconds(3))).Should().Be("421 4.4.2 Timeout, closing connection");
        watch.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(450)).And.BeLessThan(TimeSpan.FromSeconds(2.5),
            "the limit holds even though a byte arrives every 50 ms (28 bytes would take 1.4 s)");
        await stop.CancelAsync();
        await trickle;
        (await client.IsClosedAsync()).Should().BeTrue();
    }

    [Fact]
    public async Task T26_an_endless_command_line_is_ended_by_the_command_timeout()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.GreetingTimeout = Long;
            o.CommandTimeout = TimeSpan.FromMilliseconds(500);
        });
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().StartWith("250");
        using var stop = new CancellationTokenSource();
        var flood = Task.Run(async () =>
        {
            var chunk = new byte[16 * 1024];
            chunk.AsSpan().Fill((byte)'A');
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    await client.Socket.SendAsync(chunk, System.Net.Sockets.SocketFlags.None, stop.Token);
                }
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException or OperationCanceledException)
            {
            }
        });
        var watch = Stopwatch.StartNew();
        (await client.ReadReplyAsync(TimeSpan.FromSeconds(3))).Should().Be("421 4.4.2 Timeout, closing connection",
            "a line without end is discarded as it arrives, and the per-command limit still applies");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2.5));
        await stop.CancelAsync();
        await flood;
    }

    [Fact]
    public async Task Command_timeout_restarts_with_each_command()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.GreetingTimeout = TimeSpan.FromSeconds(2);
            o.CommandTimeout = TimeSpan.FromSeconds(2);
        });
        await using var client = await server.ConnectAsync();
        for (var i = 0; i < 7; i++)
        {
            await Task.Delay(250);
            (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0", "1.75 s in all, but never 2 s per command");
        }
    }

    [Fact]
    public async Task Command_timeout_after_a_message()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.CommandTimeout = TimeSpan.FromMilliseconds(400);
            o.DataBlockTimeout = Long;
        });
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        (await client.CommandCodeAsync("x\r\n.")).Should().Be("250 2.0.0");
        (await client.ReadReplyAsync(TimeSpan.FromSeconds(3))).Should().Be("421 4.4.2 Timeout, closing connection");
        (await client.IsClosedAsync()).Should().BeTrue();
        server.Messages.Count.Should().Be(1);
    }

    [Fact]
    public async Task Data_block_timeout_when_content_stops()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.CommandTimeout = Long;
            o.DataBlockTimeout = TimeSpan.FromMilliseconds(300);
            o.DataTimeout = Long;
        });
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("Subject: half\r\n\r\nsome");
        var watch = Stopwatch.StartNew();
        (await client.ReadReplyAsync(TimeSpan.FromSeconds(3))).Should().Be("421 4.4.2 Timeout, closing connection");
        watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2.5));
        (await client.IsClosedAsync()).Should().BeTrue();
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task Data_block_timeout_restarts_with_each_block()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.DataBlockTimeout = TimeSpan.FromSeconds(2);
            o.DataTimeout = TimeSpan.FromSeconds(5);
        });
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        for (var i = 0; i < 7; i++)
        {
            await client.SendAsync($"line {i}\r\n");
            await Task.Delay(250);
        }

        await client.SendAsync(".\r\n");
        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task Data_timeout_is_an_absolute_limit_while_content_trickles_in()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.CommandTimeout = Long;
            o.DataBlockTimeout = TimeSpan.FromSeconds(5);
            o.DataTimeout = TimeSpan.FromMilliseconds(600);
        });
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().StartWith("250");
        await client.SendAsync(RawSmtpClientExtensions.Envelope);
        await client.ReadRepliesAsync(2);
        var watch = Stopwatch.StartNew(); // before DATA: the server's clock starts at its 354
        (await client.CommandCodeAsync("DATA")).Should().Be("354 Start");
        using var stop = new CancellationTokenSource();
        var trickle = TrickleAsync(client, "Subject: slowloris\r\n\r\n" + new string('x', 200), TimeSpan.FromMilliseconds(50), stop.Token);
        (await client.ReadReplyAsync(TimeSpan.FromSeconds(3))).Should().Be("421 4.4.2 Timeout, closing connection");
        watch.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(550)).And.BeLessThan(TimeSpan.FromSeconds(2.5),
            "the limit holds even though a byte arrives every 50 ms");
        await stop.CancelAsync();
        await trickle;
        (await client.IsClosedAsync()).Should().BeTrue();
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task T44_an_early_talker_gets_554_5_5_0_and_close()
    {
        await using var server = await TestServer.StartAsync(o => o.GreetingDelay = TimeSpan.FromMilliseconds(300));
        await using var client = await server.ConnectAsync(readGreeting: false);
        await client.SendAsync("EHLO c.test\r\n");
        var text = await client.ReadToEndAsync(TimeSpan.FromSeconds(3));
        text.Should().Be("554 5.5.0 Protocol synchronization error: talking before the greeting\r\n", "the server never replies before its greeting");
    }

    [Fact]
    public async Task A_patient_client_is_greeted_after_the_greeting_delay()
    {
        await using var server = await TestServer.StartAsync(o => o.GreetingDelay = TimeSpan.FromMilliseconds(300));
        var watch = Stopwatch.StartNew();
        await using var client = await server.ConnectAsync(readGreeting: false);
        (await client.ReadReplyAsync(TimeSpan.FromSeconds(3))).Should().Be("220 mx.test ESMTP ready");
        watch.Elapsed.Should().BeGreaterThan(TimeSpan.FromMilliseconds(250));
        (await client.EhloAsync()).Should().StartWith("250-");
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task A_client_that_disconnects_before_the_greeting_is_handled()
    {
        var handler = new SessionRecorder();
        await using var server = await TestServer.StartAsync(o => o.GreetingDelay = TimeSpan.FromMilliseconds(300), sessionHandler: handler);
        var client = await server.ConnectAsync(readGreeting: false);
        await client.DisposeAsync();
        (await handler.FirstClosed.WaitAsync(TimeSpan.FromSeconds(3))).MessageCount.Should().Be(0);
    }

    /// <summary>Sends one byte per pause until the text ends, the server closes the connection, or the test stops it.</summary>
    private static async Task TrickleAsync(RawSmtpClient client, string text, TimeSpan pause, CancellationToken stop)
    {
        try
        {
            foreach (var c in text)
            {
                await client.SendAsync([(byte)c]);
                await Task.Delay(pause, stop);
            }
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException or IOException or OperationCanceledException)
        {
        }
    }
}
