using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Connections;

/// <summary>
/// A session served through <see cref="SmtpServer.ServeAsync(SmtpConnectionContext, CancellationToken)"/> ends when
/// its token is cancelled (421 to an idle one, no 250 for a message in flight), and <see cref="SmtpServer.StopAsync"/>
/// never throws because of such a session: after the grace period it aborts it, and gives up on one that hangs.
/// </summary>
public sealed class ServeAsyncLifetimeTests
{
    private static SmtpServer NewServer(IMessageStore store, TimeProvider? time = null, Action<SmtpServerOptions>? configure = null)
    {
        var options = new SmtpServerOptions { ServerName = "mx.test" };
        configure?.Invoke(options);
        return new SmtpServer(options, store, timeProvider: time);
    }

    [Fact]
    public async Task Cancelling_the_token_ends_an_idle_session_with_421_4_3_2()
    {
        await using var server = NewServer(new InMemoryMessageStore());
        using var cancel = new CancellationTokenSource();
        await using var client = PipeConnection.Start(server, cancellationToken: cancel.Token);
        (await client.ReadReplyAsync()).Should().StartWith("220 ");
        (await client.CommandAsync("EHLO c.test")).Should().StartWith("250-");

        await cancel.CancelAsync();

        (await client.ReadToEndAsync()).Should().Be("421 4.3.2 Service shutting down, closing connection\r\n");
        await client.Session.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Cancelling_the_token_before_the_greeting_is_read_still_ends_the_session()
    {
        await using var server = NewServer(new InMemoryMessageStore());
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        await using var client = PipeConnection.Start(server, cancellationToken: cancel.Token);

        var text = await client.ReadToEndAsync();

        text.Should().EndWith("421 4.3.2 Service shutting down, closing connection\r\n");
        await client.Session.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Cancelling_the_token_during_data_aborts_the_message_without_a_250()
    {
        var store = new InMemoryMessageStore();
        await using var server = NewServer(store);
        using var cancel = new CancellationTokenSource();
        await using var client = PipeConnection.Start(server, cancellationToken: cancel.Token);
        await client.ReadReplyAsync();
        await client.StartDataAsync();
        await client.SendAsync("Subject: half\r\n\r\nfirst half\r\n");

        await cancel.CancelAsync();

        var rest = await client.ReadToEndAsync();
        rest.Should().NotContain("250").And.Be("421 4.3.2 Service shutting down, closing connection\r\n");
        await client.Session.WaitAsync(TimeSpan.FromSeconds(10));
        store.Count.Should().Be(0, "an aborted message is never stored");
    }

    [Fact]
    public async Task StopAsync_aborts_a_served_session_inside_data_after_the_shutdown_timeout_and_does_not_throw()
    {
        var time = new FakeTimeProvider();
        var store = new InMemoryMessageStore();
        var server = NewServer(store, time, o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        await using var client = PipeConnection.Start(server);
        await client.ReadReplyAsync();
        await client.StartDataAsync();
        await client.SendAsync("Subject: slow\r\n\r\nfirst half\r\n");

        var stop = server.StopAsync();
        stop.IsCompleted.Should().BeFalse("a message in flight may finish within the shutdown timeout");
        time.Advance(TimeSpan.FromSeconds(31));

        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        (await client.ReadToEndAsync()).Should().Be("421 4.3.2 Service shutting down, closing connection\r\n");
        store.Count.Should().Be(0);
        client.Aborted.Should().BeFalse("the session ended by itself once aborted: its transport did not need cutting off");
        await server.DisposeAsync();
    }

    [Fact]
    public async Task StopAsync_returns_without_throwing_when_a_store_ignores_the_abort()
    {
        var time = new FakeTimeProvider();
        var store = new StuckStore();
        var server = NewServer(store, time, o => o.ShutdownTimeout = TimeSpan.FromSeconds(5));
        await using var client = PipeConnection.Start(server);
        await client.ReadReplyAsync();
        await client.StartDataAsync();
        await client.SendAsync("x\r\n");
        await store.Entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var stop = server.StopAsync();
        for (var i = 0; i < 400 && !stop.IsCompleted; i++)
        {
            // Step by step, letting the stop reach its next wait (grace, abort grace, then giving up): a bounded
            // poll for an event the fake clock cannot announce, never an assertion on how long it took.
            time.Advance(TimeSpan.FromSeconds(1));
            await Task.Run(() => SpinWait.SpinUntil(() => stop.IsCompleted, 50));
        }

        await stop.WaitAsync(TimeSpan.FromSeconds(10));
        client.Aborted.Should().BeTrue("a session that would not end had its transport cut off");
        store.Release.SetResult();
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Await_using_the_server_with_a_session_in_data_does_not_throw()
    {
        var server = NewServer(new InMemoryMessageStore(), configure: o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(50));
        await using var client = PipeConnection.Start(server);
        await client.ReadReplyAsync();
        await client.StartDataAsync();

        var dispose = async () => await server.DisposeAsync();

        await dispose.Should().NotThrowAsync();
    }

    /// <summary>A store that reads nothing and ignores its token until the test releases it.</summary>
    private sealed class StuckStore : IMessageStore
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
        {
            Entered.TrySetResult();
            await Release.Task;
            return SmtpReply.TemporaryFailure;
        }
    }
}
