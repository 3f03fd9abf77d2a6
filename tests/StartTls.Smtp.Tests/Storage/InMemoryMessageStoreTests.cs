using System.Net;
using StartTls.Smtp.Storage;
using static StartTls.Smtp.Tests.Storage.StorageTestKit;

namespace StartTls.Smtp.Tests.Storage;

public sealed class InMemoryMessageStoreTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task Save_records_envelope_session_facts_and_content()
    {
        var store = new InMemoryMessageStore();
        var remote = new IPEndPoint(IPAddress.Parse("198.51.100.7"), 5000);
        var content = "Subject: t\r\n\r\nbody\r\n"u8.ToArray();
        var before = DateTimeOffset.UtcNow;

        var reply = await store.SaveAsync(
            Session(id: "m1", heloName: "helo.example", remoteEndPoint: remote),
            Envelope("from@example.org", "one@example.net", "two@example.net"),
            new ScriptedContentStream(content),
            CancellationToken.None);

        reply.IsPositive.Should().BeTrue();
        store.Count.Should().Be(1);
        var message = store.Messages.Should().ContainSingle().Subject;
        message.Envelope.From!.Address.Should().Be("from@example.org");
        message.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("one@example.net", "two@example.net");
        message.SessionId.Should().Be("m1");
        message.HeloName.Should().Be("helo.example");
        message.RemoteEndPoint.Should().Be(remote);
        message.Content.ToArray().Should().Equal(content);
        message.GetContentAsString().Should().Be("Subject: t\r\n\r\nbody\r\n");
        message.ReceivedAt.Should().BeOnOrAfter(before).And.BeOnOrBefore(DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Save_keeps_the_envelope_as_it_was()
    {
        var store = new InMemoryMessageStore();
        var envelope = Envelope("from@example.org", "one@example.net");

        await store.SaveAsync(Session(), envelope, new MemoryStream([1]), CancellationToken.None);
        envelope.AddRecipient(new SmtpRecipient(Mailbox("late@example.net"), new Dictionary<string, string?>()));

        store.Messages[0].Envelope.Recipients.Should().ContainSingle();
    }

    [Fact]
    public async Task Failed_or_cancelled_saves_record_nothing()
    {
        var store = new InMemoryMessageStore();

        var aborted = async () => await store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), new ScriptedContentStream(Bytes(1000), failAfter: 500), CancellationToken.None);
        var cancelled = async () => await store.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), new MemoryStream([1]), new CancellationToken(canceled: true));

        await aborted.Should().ThrowAsync<MessageAbortedException>();
        await cancelled.Should().ThrowAsync<OperationCanceledException>();
        store.Count.Should().Be(0);
        store.Messages.Should().BeEmpty();
        // A save enqueues its message before it returns, so a waiter that is not done now has nothing queued; the
        // next message saved is the first it gets.
        var wait = store.WaitForMessageAsync(CancellationToken.None);
        wait.IsCompleted.Should().BeFalse();
        await store.SaveAsync(Session(id: "after"), Envelope("a@example.org", "b@example.net"), new MemoryStream([1]), CancellationToken.None);
        (await wait.WaitAsync(Timeout)).SessionId.Should().Be("after");
    }

    [Fact]
    public async Task WaitForMessage_returns_each_message_once_in_order_including_earlier_ones()
    {
        var store = new InMemoryMessageStore();
        using var cts = new CancellationTokenSource(Timeout);

        await store.SaveAsync(Session(id: "first"), Envelope("a@example.org", "b@example.net"), new MemoryStream([1]), CancellationToken.None);
        (await store.WaitForMessageAsync(cts.Token)).SessionId.Should().Be("first");

        var pending = store.WaitForMessageAsync(cts.Token);
        pending.IsCompleted.Should().BeFalse();
        await store.SaveAsync(Session(id: "second"), Envelope("a@example.org", "b@example.net"), new MemoryStream([2]), CancellationToken.None);
        (await pending).SessionId.Should().Be("second");
    }

    [Fact]
    public async Task WaitForMessage_honours_cancellation()
    {
        var store = new InMemoryMessageStore();
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));

        var act = () => store.WaitForMessageAsync(cts.Token);

        await act.Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task Messages_is_a_snapshot_and_Clear_forgets_everything()
    {
        var store = new InMemoryMessageStore();
        await store.SaveAsync(Session(id: "1"), Envelope("a@example.org", "b@example.net"), new MemoryStream([1]), CancellationToken.None);
        var snapshot = store.Messages;

        await store.SaveAsync(Session(id: "2"), Envelope("a@example.org", "b@example.net"), new MemoryStream([2]), CancellationToken.None);
        snapshot.Should().ContainSingle();
        store.Count.Should().Be(2);

        store.Clear();
        store.Count.Should().Be(0);
        store.Messages.Should().BeEmpty();
        store.WaitForMessageAsync(CancellationToken.None).IsCompleted.Should().BeFalse("cleared messages are not returned by the wait either");
    }

    [Fact]
    public async Task Concurrent_saves_are_all_recorded()
    {
        var store = new InMemoryMessageStore();

        await Task.WhenAll(Enumerable.Range(0, 100).Select(i => Task.Run(async () =>
            await store.SaveAsync(Session(id: i.ToString()), Envelope("a@example.org", "b@example.net"), new ScriptedContentStream(Bytes(1000, i)), CancellationToken.None))));

        store.Count.Should().Be(100);
        store.Messages.Select(m => m.SessionId).Should().OnlyHaveUniqueItems();
    }
}
