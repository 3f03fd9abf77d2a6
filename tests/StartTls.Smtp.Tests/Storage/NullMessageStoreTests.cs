using StartTls.Smtp.Storage;
using static StartTls.Smtp.Tests.Storage.StorageTestKit;

namespace StartTls.Smtp.Tests.Storage;

public sealed class NullMessageStoreTests
{
    [Fact]
    public async Task Save_reads_the_content_to_its_end_and_accepts()
    {
        var stream = new ScriptedContentStream(Bytes(200_000));

        var reply = await NullMessageStore.Instance.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), stream, CancellationToken.None);

        stream.ReachedEnd.Should().BeTrue();
        stream.Position.Should().Be(200_000);
        reply.Code.Should().Be(250);
        reply.EnhancedStatusCode.Should().Be("2.0.0");
    }

    [Fact]
    public async Task Save_propagates_an_aborted_message()
    {
        var stream = new ScriptedContentStream(Bytes(10_000), failAfter: 5_000);

        var act = async () => await NullMessageStore.Instance.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), stream, CancellationToken.None);

        await act.Should().ThrowAsync<MessageAbortedException>();
    }

    [Fact]
    public void Instance_is_the_only_way_to_get_one()
        => typeof(NullMessageStore).GetConstructors().Should().BeEmpty("the store has no state, so one shared instance serves every server");

    [Fact]
    public async Task The_shared_instance_serves_concurrent_saves_each_to_its_own_end()
    {
        var streams = Enumerable.Range(1, 8).Select(i => new ScriptedContentStream(Bytes(i * 25_000, seed: i))).ToArray();

        var replies = await Task.WhenAll(streams.Select(stream => Task.Run(async () =>
            await NullMessageStore.Instance.SaveAsync(Session(), Envelope("a@example.org", "b@example.net"), stream, CancellationToken.None))));

        replies.Should().OnlyContain(reply => reply.Code == 250 && reply.EnhancedStatusCode == "2.0.0");
        streams.Select(s => (s.ReachedEnd, s.Position)).Should().Equal(Enumerable.Range(1, 8).Select(i => (true, (long)i * 25_000)));
    }
}
