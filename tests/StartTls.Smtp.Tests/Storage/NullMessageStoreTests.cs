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
    public void Instance_is_a_singleton() => NullMessageStore.Instance.Should().BeSameAs(NullMessageStore.Instance);
}
