using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>What the server does with the application's mailbox filter, session handler and message store.</summary>
public sealed class ExtensionPointTranscriptTests
{
    [Theory]
    [InlineData(450, "4.2.0", "Greylisted, try again later")]
    [InlineData(550, "5.7.1", "Sender refused")]
    [InlineData(451, "4.7.1", "Try later")]
    public async Task The_filter_can_refuse_a_sender_with_any_reply(int code, string enhanced, string text)
    {
        var filter = new DelegateMailboxFilter(sender: _ => new SmtpReply(code, enhanced, text));
        await using var server = await TestServer.StartAsync(filter: filter);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be($"{code} {enhanced} {text}");
        (await client.CommandCodeAsync("RCPT TO:<b@s.test>")).Should().Be("503 5.5.1", "a refused sender opens no transaction");
    }

    [Theory]
    [InlineData(450, "4.2.0", "Greylisted, try again later")]
    [InlineData(550, "5.1.1", "Mailbox unavailable")]
    [InlineData(551, "5.1.6", "User not local; please try <b@elsewhere.test>")]
    public async Task The_filter_can_refuse_a_recipient_with_any_reply(int code, string enhanced, string text)
    {
        var filter = new DelegateMailboxFilter(recipient: r => r.Mailbox.LocalPart == "bad" ? new SmtpReply(code, enhanced, text) : SmtpReply.RecipientOk);
        await using var server = await TestServer.StartAsync(filter: filter);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<bad@s.test>\r\nRCPT TO:<good@s.test>\r\n");
        var replies = await client.ReadRepliesAsync(3);
        replies[1].Should().Be($"{code} {enhanced} {text}");
        replies[2].Should().Be("250 2.1.5 Recipient OK");
        (await client.CommandCodeAsync("DATA")).Should().Be("354 Start");
        (await client.CommandCodeAsync("x\r\n.")).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("good@s.test");
    }

    [Fact]
    public async Task A_filter_that_says_421_gets_the_connection_closed()
    {
        var filter = new DelegateMailboxFilter(recipient: _ => SmtpReply.RateLimitedClosing);
        await using var server = await TestServer.StartAsync(filter: filter);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nNOOP\r\n");
        (await client.ReadRepliesAsync(2)).Should().Equal("250 2.1.0 Sender OK", "421 4.7.0 Too many requests, closing connection");
        (await client.ReadToEndAsync()).Should().BeEmpty("RFC 5321 §3.8: after 421 the server closes; the pipelined NOOP is never answered");
    }

    [Fact]
    public async Task A_store_that_says_421_gets_the_connection_closed_and_nothing_is_kept()
    {
        var store = DelegateMessageStore.RefusesAtOnce(new SmtpReply(421, "4.3.0", "Store going away"));
        await using var server = await TestServer.StartAsync(store: store);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\n");
        (await client.ReadRepliesAsync(2)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5");
        (await client.CommandCodeAsync("DATA")).Should().Be("354 Start");
        (await client.CommandAsync("x\r\n.")).Should().Be("421 4.3.0 Store going away");
        (await client.ReadToEndAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task Only_refused_recipients_means_data_gets_554()
    {
        var filter = new DelegateMailboxFilter(recipient: _ => SmtpReply.MailboxUnavailable);
        await using var server = await TestServer.StartAsync(filter: filter);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\n");
        (await client.ReadRepliesAsync(2)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "550 5.1.1");
        (await client.CommandCodeAsync("DATA")).Should().Be("554 5.5.1");
    }

    [Fact]
    public async Task A_filter_reply_text_with_line_breaks_and_non_ascii_is_made_safe()
    {
        var filter = new DelegateMailboxFilter(sender: _ => new SmtpReply(550, "5.7.1", "Refusé\r\nsee policy\r\n250 2.0.0 fake"));
        await using var server = await TestServer.StartAsync(filter: filter);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("550-5.7.1 Refus?\r\n550-5.7.1 see policy\r\n550 5.7.1 250 2.0.0 fake");
    }

    [Fact]
    public async Task A_filter_can_accept_with_its_own_text()
    {
        var filter = new DelegateMailboxFilter(sender: _ => new SmtpReply(250, "2.1.0", "Originator ok"));
        await using var server = await TestServer.StartAsync(filter: filter);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("250 2.1.0 Originator ok");
        (await client.CommandCodeAsync("RCPT TO:<b@s.test>")).Should().Be("250 2.1.5");
    }

    [Fact]
    public async Task A_throwing_filter_gives_451_4_3_0_and_the_session_goes_on()
    {
        var filter = new DelegateMailboxFilter(
            sender: e => e.From?.LocalPart == "boom" ? throw new InvalidOperationException("database down") : SmtpReply.SenderOk,
            recipient: _ => throw new TimeoutException("directory down"));
        await using var server = await TestServer.StartAsync(filter: filter);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandCodeAsync("MAIL FROM:<boom@c.test>")).Should().Be("451 4.3.0");
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test>")).Should().Be("250 2.1.0");
        var reply = await client.CommandAsync("RCPT TO:<b@s.test>");
        RawSmtpClientExtensions.Code(reply).Should().Be("451 4.3.0");
        reply.Should().NotContain("directory down", "exception text never reaches the client");
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task The_session_handler_can_refuse_a_connection()
    {
        var handler = new SessionRecorder(_ => new SmtpReply(554, "5.7.1", "No service for you"));
        await using var server = await TestServer.StartAsync(sessionHandler: handler);
        await using var client = await server.ConnectAsync(readGreeting: false);
        (await client.ReadToEndAsync(TimeSpan.FromSeconds(3))).Should().Be("554 5.7.1 No service for you\r\n");
        var session = await handler.FirstClosed.WaitAsync(TimeSpan.FromSeconds(3));
        handler.Events.Should().Equal("connected " + session.Id, "closed " + session.Id);
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task The_session_handler_can_refuse_with_a_temporary_reply()
    {
        var handler = new SessionRecorder(_ => new SmtpReply(421, "4.7.0", "Busy"));
        await using var server = await TestServer.StartAsync(sessionHandler: handler);
        await using var client = await server.ConnectAsync(readGreeting: false);
        (await client.ReadToEndAsync(TimeSpan.FromSeconds(3))).Should().Be("421 4.7.0 Busy\r\n");
        await handler.FirstClosed.WaitAsync(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task A_throwing_session_handler_closes_with_421()
    {
        var handler = new SessionRecorder(_ => throw new InvalidOperationException("hook failed"));
        await using var server = await TestServer.StartAsync(sessionHandler: handler);
        await using var client = await server.ConnectAsync(readGreeting: false);
        var text = await client.ReadToEndAsync(TimeSpan.FromSeconds(3));
        text.Should().StartWith("421 4.3.0").And.NotContain("hook failed");
        await handler.FirstClosed.WaitAsync(TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task The_session_handler_sees_the_session_open_and_close()
    {
        var handler = new SessionRecorder();
        await using var server = await TestServer.StartAsync(sessionHandler: handler);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        (await client.CommandCodeAsync("x\r\n.")).Should().Be("250 2.0.0");
        (await client.CommandCodeAsync("QUIT")).Should().Be("221 2.0.0");
        var session = await handler.FirstClosed.WaitAsync(TimeSpan.FromSeconds(3));
        session.HeloName.Should().Be("client.test");
        session.MessageCount.Should().Be(1);
        session.IsExtended.Should().BeTrue();
        session.RemoteEndPoint.Should().BeOfType<System.Net.IPEndPoint>().Which.Address.Should().Be(System.Net.IPAddress.Loopback);
        handler.Events.Should().HaveCount(2);
    }

    [Fact]
    public async Task On_closed_is_called_when_the_client_just_disappears()
    {
        var handler = new SessionRecorder();
        await using var server = await TestServer.StartAsync(sessionHandler: handler);
        var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.DisposeAsync();
        (await handler.FirstClosed.WaitAsync(TimeSpan.FromSeconds(3))).HeloName.Should().Be("client.test");
    }

    [Fact]
    public async Task A_store_that_throws_after_reading_gives_451_and_nothing_is_counted()
    {
        var handler = new SessionRecorder();
        var store = DelegateMessageStore.ThrowsAfterReading();
        await using var server = await TestServer.StartAsync(store: store, sessionHandler: handler);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        var reply = await client.CommandAsync("Subject: x\r\n\r\nbody\r\n.");
        RawSmtpClientExtensions.Code(reply).Should().Be("451 4.3.0");
        reply.Should().NotContain("disk full");
        store.Calls.Should().Be(1);
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
        (await client.CommandCodeAsync("QUIT")).Should().Be("221 2.0.0");
        (await handler.FirstClosed.WaitAsync(TimeSpan.FromSeconds(3))).MessageCount.Should().Be(0);
    }

    [Fact]
    public async Task A_store_that_throws_at_once_gives_451_after_the_final_dot()
    {
        var store = DelegateMessageStore.ThrowsAtOnce();
        await using var server = await TestServer.StartAsync(store: store);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync(string.Concat(Enumerable.Repeat(new string('x', 998) + "\r\n", 300)));
        (await client.IsSilentAsync()).Should().BeTrue("the reply waits for the final dot");
        await client.SendAsync(".\r\n");
        (await client.ReadCodeAsync()).Should().Be("451 4.3.0");
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Theory]
    [InlineData(10)]
    [InlineData(300_000)]
    public async Task A_store_that_claims_success_without_reading_gets_451(int size)
    {
        var handler = new SessionRecorder();
        var store = DelegateMessageStore.AcceptsWithoutReading();
        await using var server = await TestServer.StartAsync(store: store, sessionHandler: handler);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        var line = new string('x', 98) + "\r\n";
        await client.SendAsync(string.Concat(Enumerable.Repeat(line, Math.Max(1, size / 100))) + ".\r\n");
        (await client.ReadCodeAsync()).Should().Be("451 4.3.0");
        (await client.CommandCodeAsync("QUIT")).Should().Be("221 2.0.0");
        (await handler.FirstClosed.WaitAsync(TimeSpan.FromSeconds(3))).MessageCount.Should().Be(0);
    }

    [Fact]
    public async Task A_store_that_refuses_early_is_answered_after_the_final_dot()
    {
        var store = DelegateMessageStore.RefusesAtOnce(new SmtpReply(554, "5.7.1", "Content refused"));
        await using var server = await TestServer.StartAsync(store: store);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        var block = string.Concat(Enumerable.Repeat(new string('x', 998) + "\r\n", 100));
        for (var i = 0; i < 10; i++)
        {
            await client.SendAsync(block); // about 1 MB while the store has already answered
        }

        (await client.IsSilentAsync()).Should().BeTrue("nothing is said before the client's final dot");
        await client.SendAsync(".\r\n");
        (await client.ReadReplyAsync()).Should().Be("554 5.7.1 Content refused");
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task A_store_that_refuses_temporarily_after_reading()
    {
        var store = new DelegateMessageStore(async (content, ct) =>
        {
            await content.CopyToAsync(Stream.Null, ct);
            return new SmtpReply(452, "4.3.1", "Insufficient system storage");
        });
        await using var server = await TestServer.StartAsync(store: store);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        (await client.CommandAsync("x\r\n.")).Should().Be("452 4.3.1 Insufficient system storage");
    }

    [Fact]
    public async Task A_store_sees_the_content_as_it_arrives()
    {
        var firstBytes = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var store = new DelegateMessageStore(async (content, ct) =>
        {
            var buffer = new byte[5];
            var read = await content.ReadAsync(buffer, ct);
            firstBytes.TrySetResult(System.Text.Encoding.ASCII.GetString(buffer, 0, read));
            await content.CopyToAsync(Stream.Null, ct);
            return SmtpReply.MessageAccepted;
        });
        await using var server = await TestServer.StartAsync(store: store);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("hello world\r\n");
        (await firstBytes.Task.WaitAsync(TimeSpan.FromSeconds(3))).Should().Be("hello", "the store streams before the final dot");
        await client.SendAsync(".\r\n");
        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
    }

    [Fact]
    public async Task A_store_is_told_when_the_client_disappears()
    {
        var reading = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var outcome = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var store = new DelegateMessageStore(async (content, ct) =>
        {
            try
            {
                await content.ReadExactlyAsync(new byte["partial".Length], ct);
                reading.TrySetResult();
                await content.CopyToAsync(Stream.Null, ct);
                outcome.TrySetResult("completed");
                return SmtpReply.MessageAccepted;
            }
            catch (Exception ex)
            {
                outcome.TrySetResult(ex.GetType().Name);
                throw;
            }
        });
        await using var server = await TestServer.StartAsync(store: store);
        var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("partial\r\n");
        await reading.Task.WaitAsync(TimeSpan.FromSeconds(10)); // the store is in the middle of the message
        await client.DisposeAsync();
        (await outcome.Task.WaitAsync(TimeSpan.FromSeconds(3))).Should().NotBe("completed", "the store must not see a cut message as complete");
    }
}
