using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.Tests.Authentication;
using StartTls.Smtp.Transport;

using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Transport;

/// <summary>
/// The accept loop when every accept fails at once (as out of descriptors): it waits 10 ms, 20 ms, ... up to 1 s
/// between attempts on the injected clock, with no thread held, and logs the first failure in full and the rest as
/// one line with a count. Before, it retried at once: a core at 100 % and a warning with a stack trace per attempt.
/// </summary>
public sealed class SocketListenerBackoffTests
{
    [Fact]
    public async Task A_persistent_accept_failure_is_retried_after_a_growing_delay_and_logged_once_with_a_count()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // Shutting down a listening socket makes accept fail at once (EINVAL) on Linux.
        }

        var time = new WatchedTimeProvider();
        var logs = new LogCapture();
        var listener = new SocketListener(new IPEndPoint(IPAddress.Loopback, 0), static socket =>
        {
            socket.Dispose();
            return Task.CompletedTask;
        }, logs.CreateLogger("test"), time);
        var delays = new List<double>();
        try
        {
            listener.Start();
            listener.Socket.Shutdown(SocketShutdown.Receive);
            for (var i = 0; i < 10; i++)
            {
                var delay = await time.Delays.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
                delays.Add(delay.TotalMilliseconds);
                time.Advance(delay); // the next attempt fails at once and asks for the next delay
            }

            // The eleventh failure waits for its delay now; nothing has run out of turn.
            (await time.Delays.Reader.ReadAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10))).Should().Be(TimeSpan.FromSeconds(1));
            time.Delays.Reader.TryRead(out _).Should().BeFalse();
        }
        finally
        {
            await listener.DisposeAsync();
        }

        delays.Should().Equal(10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000);
        var port = listener.EndPoint.Port;
        logs.Lines.Should().HaveCount(2);
        logs.Lines.First().Should().StartWith($"Warning test [4] Accepting a connection on 127.0.0.1:{port} failed (InvalidArgument); further failures are summarised every 00:00:10")
            .And.Contain("System.Net.Sockets.SocketException");

        // Stopping reports the failures not yet summarised: the ten after the first, without a stack trace.
        logs.Lines.Last().Should().StartWith($"Warning test [5] Accepting a connection on 127.0.0.1:{port} failed 10 more time(s) in 00:00:10, the last with InvalidArgument")
            .And.EndWith(" || ");
    }

    /// <summary>A fake clock that reports every finite delay asked of it, once the timer for it exists.</summary>
    private sealed class WatchedTimeProvider : FakeTimeProvider
    {
        public Channel<TimeSpan> Delays { get; } = Channel.CreateUnbounded<TimeSpan>();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            if (dueTime != Timeout.InfiniteTimeSpan)
            {
                Delays.Writer.TryWrite(dueTime);
            }

            return timer;
        }
    }
}
