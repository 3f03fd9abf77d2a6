using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// Per-phase timeouts (421 4.4.2, close, and one <c>smtp.server.timeouts</c> with its phase) and the early-talker
/// check (T44), on a fake clock. Each wait starts only once the server has read everything sent and waits for more
/// (<see cref="PipeConnection.SendPieceAsync(string)"/>, <see cref="PipeConnection.WaitUntilServerWaitsAsync"/>), so its
/// deadline is set before the clock moves; the server's deadline heartbeat ticks inside <see cref="FakeTimeProvider.Advance"/>.
/// A deadline fires at most one heartbeat period late (a quarter of the shortest timeout, at most 1 s), never early:
/// the checks that nothing happened stay before the deadline, and the checks that it fired go a period past it.
/// </summary>
public sealed class TimeoutTranscriptTests : IDisposable
{
    private const string TimeoutReply = "421 4.4.2 Timeout, closing connection";

    private static readonly TimeSpan Long = TimeSpan.FromMinutes(30);

    /// <summary>Longer than any heartbeat period: a deadline that passed has fired after this much more.</summary>
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    private readonly FakeTimeProvider _time = new();
    private readonly TestMeters _meters = new();
    private readonly MetricCollector<long> _timeouts;

    public TimeoutTranscriptTests() => _timeouts = _meters.Collect<long>("smtp.server.timeouts");

    public void Dispose()
    {
        _timeouts.Dispose();
        _meters.Dispose();
    }

    private Task<TestServer> StartAsync(Action<SmtpServerOptions> configure, ISessionHandler? sessionHandler = null)
        => TestServer.StartAsync(configure, sessionHandler: sessionHandler, timeProvider: _time, meterFactory: _meters.Factory);

    /// <summary>The <c>phase</c> tags of the timeouts counted so far.</summary>
    private List<string?> TimeoutPhases() => [.. _timeouts.GetMeasurementSnapshot().Select(m => m.Tags["phase"]?.ToString())];

    /// <summary>The server's last words: the timeout reply, then the end of the session.</summary>
    private static async Task ExpectTimeoutAndCloseAsync(PipeConnection client)
    {
        (await client.ReadToEndAsync()).Should().Be(TimeoutReply + "\r\n");
        await client.Session;
    }

    [Fact]
    public async Task Greeting_timeout_when_the_client_says_nothing()
    {
        await using var server = await StartAsync(o =>
        {
            o.GreetingTimeout = TimeSpan.FromSeconds(10);
            o.CommandTimeout = Long;
        });
        await using var client = await PipeConnection.ConnectAsync(server);
        await client.WaitUntilServerWaitsAsync();

        _time.Advance(TimeSpan.FromSeconds(9.5));
        client.IsSilent().Should().BeTrue("the greeting timeout has not passed");
        client.Session.IsCompleted.Should().BeFalse();

        _time.Advance(TimeSpan.FromSeconds(0.5) + Tick);
        await ExpectTimeoutAndCloseAsync(client);
        TimeoutPhases().Should().Equal("greeting");
    }

    [Fact]
    public async Task Greeting_timeout_is_absolute_for_a_trickled_first_command()
    {
        await using var server = await StartAsync(o =>
        {
            o.GreetingTimeout = TimeSpan.FromSeconds(4);
            o.CommandTimeout = Long;
        });
        await using var client = await PipeConnection.ConnectAsync(server);

        // 19 bytes, one every 0.5 s, would take 9.5 s: the 4-second limit is not reset by each byte.
        foreach (var c in "EHLO slowloris.test"[..7])
        {
            await client.SendPieceAsync(c.ToString());
            client.IsSilent().Should().BeTrue("3.5 s at most have passed, and the line is not complete");
            _time.Advance(TimeSpan.FromSeconds(0.5));
        }

        _time.Advance(Tick);
        await ExpectTimeoutAndCloseAsync(client);
        TimeoutPhases().Should().Equal("greeting");
    }

    [Fact]
    public async Task Command_timeout_is_an_absolute_limit_per_command_while_bytes_trickle_in()
    {
        await using var server = await StartAsync(o =>
        {
            o.GreetingTimeout = Long;
            o.CommandTimeout = TimeSpan.FromSeconds(5);
        });
        await using var client = await PipeConnection.ConnectAsync(server);
        (await client.EhloAsync()).Should().StartWith("250");

        // A slowloris: 28 bytes, one every 0.25 s, would take 7 s; the limit holds at 5 s although bytes keep coming.
        foreach (var c in "MAIL FROM:<slowloris@c.test>"[..19])
        {
            await client.SendPieceAsync(c.ToString());
            client.IsSilent().Should().BeTrue("4.75 s at most have passed, and the line is not complete");
            _time.Advance(TimeSpan.FromSeconds(0.25));
        }

        await client.SendPieceAsync("@");
        client.IsSilent().Should().BeTrue();
        _time.Advance(TimeSpan.FromSeconds(0.25) + Tick);
        await ExpectTimeoutAndCloseAsync(client);
        TimeoutPhases().Should().Equal("command");
    }

    [Fact]
    public async Task T26_an_endless_command_line_is_ended_by_the_command_timeout()
    {
        await using var server = await StartAsync(o =>
        {
            o.GreetingTimeout = Long;
            o.CommandTimeout = TimeSpan.FromSeconds(5);
        });
        await using var client = await PipeConnection.ConnectAsync(server);
        (await client.EhloAsync()).Should().StartWith("250");
        var chunk = new byte[16 * 1024];
        chunk.AsSpan().Fill((byte)'A');

        // 1 MiB without a line end, 64 KiB a second: a line without end is discarded as it arrives, without a reply.
        for (var i = 0; i < 64; i++)
        {
            await client.SendPieceAsync(chunk);
            if (i % 4 == 3 && i < 16)
            {
                client.IsSilent().Should().BeTrue("the line has not ended and the command timeout has not passed");
                _time.Advance(TimeSpan.FromSeconds(1));
            }
        }

        client.IsSilent().Should().BeTrue("4 s have passed");
        _time.Advance(TimeSpan.FromSeconds(1) + Tick);
        await ExpectTimeoutAndCloseAsync(client);
        TimeoutPhases().Should().Equal("command");
    }

    [Fact]
    public async Task Command_timeout_restarts_with_each_command()
    {
        await using var server = await StartAsync(o =>
        {
            o.GreetingTimeout = TimeSpan.FromSeconds(2);
            o.CommandTimeout = TimeSpan.FromSeconds(2);
        });
        await using var client = await PipeConnection.ConnectAsync(server);
        for (var i = 0; i < 7; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(1.5));
            (await client.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK", "10.5 s in all, but never 2 s per command");
        }

        _time.Advance(TimeSpan.FromSeconds(2) + Tick);
        await ExpectTimeoutAndCloseAsync(client);
        TimeoutPhases().Should().Equal("command");
    }

    [Fact]
    public async Task Command_timeout_after_a_message()
    {
        await using var server = await StartAsync(o =>
        {
            o.CommandTimeout = TimeSpan.FromSeconds(4);
            o.DataBlockTimeout = Long;
        });
        await using var client = await PipeConnection.ConnectAsync(server);
        await client.StartDataAsync();
        (await client.CommandAsync("x\r\n.")).Should().StartWith("250 2.0.0");
        await client.WaitUntilServerWaitsAsync();

        _time.Advance(TimeSpan.FromSeconds(3.5));
        client.IsSilent().Should().BeTrue("the command timeout restarted at the end of the message");

        _time.Advance(TimeSpan.FromSeconds(0.5) + Tick);
        await ExpectTimeoutAndCloseAsync(client);
        server.Messages.Count.Should().Be(1);
        TimeoutPhases().Should().Equal("command");
    }

    [Fact]
    public async Task Data_block_timeout_when_content_stops()
    {
        await using var server = await StartAsync(o =>
        {
            o.CommandTimeout = Long;
            o.DataBlockTimeout = TimeSpan.FromSeconds(3);
            o.DataTimeout = Long;
        });
        await using var client = await PipeConnection.ConnectAsync(server);
        await client.StartDataAsync();
        await client.SendPieceAsync("Subject: half\r\n\r\nsome");

        _time.Advance(TimeSpan.FromSeconds(2.5));
        client.IsSilent().Should().BeTrue("the data block timeout has not passed");

        _time.Advance(TimeSpan.FromSeconds(0.5) + Tick);
        await ExpectTimeoutAndCloseAsync(client);
        server.Messages.Count.Should().Be(0);
        TimeoutPhases().Should().Equal("content");
    }

    [Fact]
    public async Task Data_block_timeout_restarts_with_each_block()
    {
        await using var server = await StartAsync(o =>
        {
            o.DataBlockTimeout = TimeSpan.FromSeconds(2);
            o.DataTimeout = TimeSpan.FromSeconds(20);
        });
        await using var client = await PipeConnection.ConnectAsync(server);
        await client.StartDataAsync();
        for (var i = 0; i < 7; i++)
        {
            await client.SendPieceAsync($"line {i}\r\n");
            client.IsSilent().Should().BeTrue();
            _time.Advance(TimeSpan.FromSeconds(1.5));
        }

        (await client.CommandAsync(".")).Should().StartWith("250 2.0.0", "10.5 s in all, but never 2 s per block");
        server.Messages.Count.Should().Be(1);
        TimeoutPhases().Should().BeEmpty();
    }

    [Fact]
    public async Task Data_timeout_is_an_absolute_limit_while_content_trickles_in()
    {
        await using var server = await StartAsync(o =>
        {
            o.CommandTimeout = Long;
            o.DataBlockTimeout = TimeSpan.FromSeconds(2);
            o.DataTimeout = TimeSpan.FromSeconds(10);
        });
        await using var client = await PipeConnection.ConnectAsync(server);
        await client.StartDataAsync();
        await client.WaitUntilServerWaitsAsync(); // the whole-data clock starts at the 354

        // A block every second, never 2 s apart: only the absolute 10-second limit can end this.
        foreach (var c in "Subject: slowloris\r\n\r\n"[..9])
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await client.SendPieceAsync(c.ToString());
            client.IsSilent().Should().BeTrue("9 s at most have passed");
        }

        _time.Advance(TimeSpan.FromSeconds(1.5)); // 10.5 s in all, 1.5 s since the last block
        await ExpectTimeoutAndCloseAsync(client);
        server.Messages.Count.Should().Be(0);
        TimeoutPhases().Should().Equal("content");
    }

    [Fact]
    public async Task T44_an_early_talker_gets_554_5_5_0_and_close()
    {
        await using var server = await StartAsync(o => o.GreetingDelay = TimeSpan.FromSeconds(3));
        await using var client = PipeConnection.Start(server.Server);
        await client.SendAsync("EHLO c.test\r\n");

        (await client.ReadToEndAsync()).Should().Be("554 5.5.0 Protocol synchronization error: talking before the greeting\r\n",
            "the server never replies before its greeting");
        TimeoutPhases().Should().BeEmpty();
    }

    [Fact]
    public async Task A_patient_client_is_greeted_after_the_greeting_delay()
    {
        await using var server = await StartAsync(o => o.GreetingDelay = TimeSpan.FromSeconds(3));
        await using var client = PipeConnection.Start(server.Server);
        await client.WaitUntilServerWaitsAsync();

        _time.Advance(TimeSpan.FromSeconds(2.5));
        client.IsSilent().Should().BeTrue("the greeting delay has not passed");

        _time.Advance(TimeSpan.FromSeconds(0.5) + Tick);
        (await client.ReadReplyAsync()).Should().Be("220 mx.test ESMTP ready");
        (await client.EhloAsync()).Should().StartWith("250-");
        (await client.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        TimeoutPhases().Should().BeEmpty("the greeting delay is no timeout");
    }

    [Fact]
    public async Task A_client_that_disconnects_before_the_greeting_is_handled()
    {
        var handler = new SessionRecorder();
        await using var server = await StartAsync(o => o.GreetingDelay = TimeSpan.FromSeconds(3), sessionHandler: handler);
        await using var client = PipeConnection.Start(server.Server);
        await client.WaitUntilServerWaitsAsync();
        await client.CompleteInputAsync();

        (await handler.FirstClosed.WaitAsync(PipeConnection.DefaultTimeout)).MessageCount.Should().Be(0);
        (await client.ReadToEndAsync()).Should().NotContain("220", "a client that left before the greeting is not greeted");
    }
}
