using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

public sealed class SmokeTranscriptTests
{
    [Fact]
    public async Task Delivers_a_message_with_pipelined_envelope()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().Contain("250-PIPELINING").And.Contain("250 HELP");
        await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nRCPT TO:<c@s.test>\r\nDATA\r\n");
        (await client.ReadRepliesAsync(4)).Should().Equal("250 2.1.0 Sender OK", "250 2.1.5 Recipient OK", "250 2.1.5 Recipient OK", "354 Start mail input; end with <CRLF>.<CRLF>");
        await client.SendAsync("..x\r\n..\r\n. y\r\n.\r\nQUIT\r\n");
        (await client.ReadReplyAsync()).Should().StartWith("250 2.0.0");
        (await client.ReadReplyAsync()).Should().StartWith("221 2.0.0");
        (await client.IsClosedAsync()).Should().BeTrue();
        server.Messages.Messages.Should().ContainSingle();
        server.Messages.Messages[0].GetContentAsString().Should().Be(".x\r\n.\r\n y\r\n");
        server.Messages.Messages[0].Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("b@s.test", "c@s.test");
    }
}
