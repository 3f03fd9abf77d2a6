using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>Message content on the wire: docs/threat-model.md T32–T38 and content split across writes.</summary>
public sealed class DataTranscriptTests
{
    private const string SmuggledTail = "\r\nMAIL FROM:<spoof@c.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\nSubject: smuggled\r\n\r\ny\r\n.\r\n";

    public static TheoryData<string> SmugglingSequences => DataReaderTests.SmugglingSequences;

    [Fact]
    public async Task T32_dot_stuffing_is_undone()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("..x\r\n..\r\n. y\r\n.\r\n");
        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
        (await client.IsSilentAsync()).Should().BeTrue("exactly one reply");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be(".x\r\n.\r\n y\r\n");
    }

    [Fact]
    public async Task T33_the_terminator_split_across_writes_is_answered_only_after_the_last_write()
    {
        // In memory: each part is read by the server before the next is written, so silence is checked, not guessed.
        await using var server = await TestServer.StartAsync();
        await using var client = await PipeConnection.ConnectAsync(server);
        await client.StartDataAsync();
        foreach (var part in new[] { "hi\r", "\n.", "\r" })
        {
            await client.SendPieceAsync(part);
            client.IsSilent().Should().BeTrue("no reply before the terminator is complete");
        }

        await client.SendAsync("\n");
        RawSmtpClientExtensions.Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("hi\r\n");
    }

    [Fact]
    public async Task T33_an_empty_body_is_answered_promptly()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync(".\r\n");
        (await client.ReadCodeAsync(TimeSpan.FromSeconds(2))).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.Content.Length.Should().Be(0);
    }

    [Fact]
    public async Task Data_content_split_one_byte_per_write()
    {
        // In memory: each byte is read by the server before the next is written.
        await using var server = await TestServer.StartAsync();
        await using var client = await PipeConnection.ConnectAsync(server);
        await client.StartDataAsync();
        await client.SendByteByByteAsync("Subject: slow\r\n\r\n..dot\r\nline\r\n.\r\n");
        RawSmtpClientExtensions.Code(await client.ReadReplyAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("Subject: slow\r\n\r\n.dot\r\nline\r\n");
    }

    [Theory]
    [MemberData(nameof(SmugglingSequences))]
    public async Task T34_smuggling_in_reject_mode_gets_a_5xx_close_and_nothing_stored(string sequence)
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("x\r\n" + sequence + SmuggledTail);
        var reply = await client.ReadCodeAsync();
        reply.Should().BeOneOf("550 5.6.0", "554 5.6.0");
        if (sequence.Contains('\0', StringComparison.Ordinal))
        {
            reply.Should().Be("554 5.6.0");
        }

        (await client.IsClosedAsync()).Should().BeTrue();
        server.Messages.Count.Should().Be(0);
    }

    [Theory]
    [MemberData(nameof(SmugglingSequences))]
    public async Task T34_smuggling_in_normalize_mode_gives_one_message_with_the_smuggled_lines_as_text(string sequence)
    {
        await using var server = await TestServer.StartAsync(o => o.BareLineEndings = BareLineEndingHandling.Normalize);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("x\r\n" + sequence + SmuggledTail);
        if (sequence.Contains('\0', StringComparison.Ordinal))
        {
            (await client.ReadCodeAsync()).Should().Be("554 5.6.0");
            (await client.IsClosedAsync()).Should().BeTrue();
            server.Messages.Count.Should().Be(0);
            return;
        }

        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
        (await client.IsSilentAsync()).Should().BeTrue("no reply for the smuggled commands");
        var message = server.Messages.Messages.Should().ContainSingle().Subject;
        message.Envelope.From!.Address.Should().Be("a@c.test");
        message.GetContentAsString().Should().Contain("\r\nMAIL FROM:<spoof@c.test>\r\nRCPT TO:<b@s.test>\r\nDATA\r\nSubject: smuggled\r\n\r\ny\r\n");
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }

    [Theory]
    [InlineData(BareLineEndingHandling.Reject, "550 5.6.0")]
    [InlineData(BareLineEndingHandling.Normalize, "554 5.6.0")]
    public async Task T35_bare_cr_lf_and_nul_in_the_body(BareLineEndingHandling mode, string expected)
    {
        await using var server = await TestServer.StartAsync(o => o.BareLineEndings = mode);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("a\nb\r\nc\rd\r\ne\0f\r\n.\r\n");
        (await client.ReadCodeAsync()).Should().Be(expected);
        (await client.IsClosedAsync()).Should().BeTrue();
        server.Messages.Count.Should().Be(0);
    }

    [Theory]
    [InlineData("a\nb\r\n.\r\n", "a\r\nb\r\n")]
    [InlineData("a\rb\r\n.\r\n", "a\r\nb\r\n")]
    [InlineData("a\r\r\nb\n\n.\r\n.\r\n", "a\r\n\r\nb\r\n\r\n.\r\n")]
    public async Task Normalize_mode_stores_crlf_only(string body, string stored)
    {
        await using var server = await TestServer.StartAsync(o => o.BareLineEndings = BareLineEndingHandling.Normalize);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync(body);
        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be(stored);
    }

    [Theory]
    [InlineData("a\n..x\n...y\n..\nz\r\n.\r\n", "a\r\n.x\r\n..y\r\n.\r\nz\r\n")]
    [InlineData("a\r.x\r..y\r\n.\r\n", "a\r\n.x\r\n..y\r\n")]
    [InlineData("a\n.\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n")]
    public async Task Normalize_mode_unstuffs_lines_after_a_bare_lf_but_not_after_a_bare_cr(string body, string stored)
    {
        await using var server = await TestServer.StartAsync(o => o.BareLineEndings = BareLineEndingHandling.Normalize);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync(body);
        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
        (await client.IsSilentAsync()).Should().BeTrue("exactly one reply");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be(stored);
    }

    [Fact]
    public async Task Normalize_mode_does_not_end_the_message_at_a_lone_dot_after_a_bare_lf()
    {
        await using var server = await TestServer.StartAsync(o => o.BareLineEndings = BareLineEndingHandling.Normalize);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("a\n.\r\n");
        (await client.IsSilentAsync()).Should().BeTrue("<LF>.<CRLF> is not the end of the message");
        await client.SendAsync("NOOP\r\n.\r\n");
        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
        (await client.IsSilentAsync()).Should().BeTrue("the NOOP was content, not a command");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("a\r\n.\r\nNOOP\r\n");
    }

    [Fact]
    public async Task Reject_mode_tells_the_client_how_to_send_crlf()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("a\n..x\n.\r\n");
        (await client.ReadToEndAsync()).Should().Be(
            "550 5.6.0 Bare CR or LF in message content: send every line ending as CRLF (for example curl --crlf)\r\n");
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task T36_a_1000_octet_line_is_accepted()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        var line = new string('a', 998) + "\r\n";
        await client.SendAsync(line + line + ".\r\n");
        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.Content.Length.Should().Be(2000);
    }

    [Fact]
    public async Task T36_a_1001_octet_line_is_read_to_the_end_then_refused_and_the_session_goes_on()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("ok\r\n" + new string('a', 999) + "\r\nmore\r\n");
        (await client.IsSilentAsync()).Should().BeTrue("the reply waits for the final dot");
        await client.SendAsync(".\r\n");
        (await client.ReadCodeAsync()).Should().Be("500 5.5.2");
        server.Messages.Count.Should().Be(0);
        await client.SendAsync(RawSmtpClientExtensions.Envelope + "DATA\r\n");
        (await client.ReadRepliesAsync(3)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5", "354 Start");
        (await client.CommandCodeAsync("fine\r\n.")).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("fine\r\n");
    }

    [Fact]
    public async Task T36_a_1_MB_line_then_the_terminator_gets_500_5_5_2()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        var chunk = new string('z', 64 * 1024);
        for (var i = 0; i < 16; i++)
        {
            await client.SendAsync(chunk);
        }

        await client.SendAsync("\r\n.\r\n");
        (await client.ReadCodeAsync()).Should().Be("500 5.5.2");
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task T37_declared_size()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxMessageSize = 1048576);
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().Contain("250-SIZE 1048576");
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test> SIZE=2000000")).Should().Be("552 5.3.4");
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test> SIZE=abc")).Should().Be("501 5.5.4");
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test> SIZE=-1")).Should().Be("501 5.5.4");
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test> SIZE=99999999999999999999")).Should().BeOneOf("552 5.3.4", "501 5.5.4");
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test> SIZE=1048577")).Should().Be("552 5.3.4");
        (await client.CommandCodeAsync("MAIL FROM:<a@c.test> SIZE=1048576")).Should().Be("250 2.1.0");
    }

    [Fact]
    public async Task T38_size_is_enforced_while_streaming()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxMessageSize = 1048576);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("MAIL FROM:<a@c.test> SIZE=100\r\nRCPT TO:<b@s.test>\r\nDATA\r\n");
        (await client.ReadRepliesAsync(3)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5", "354 Start");
        var line = new string('x', 998) + "\r\n";
        var block = string.Concat(Enumerable.Repeat(line, 64)); // 64,000 octets
        for (var i = 0; i < 80; i++)
        {
            await client.SendAsync(block); // 5,120,000 octets in all
        }

        (await client.IsSilentAsync(TimeSpan.FromMilliseconds(100))).Should().BeTrue("the reply waits for the final dot");
        await client.SendAsync(".\r\n");
        (await client.ReadCodeAsync()).Should().Be("552 5.3.4");
        server.Messages.Count.Should().Be(0);
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0", "the session goes on after a refused message");
    }

    [Fact]
    public async Task The_size_limit_is_exact()
    {
        await using var server = await TestServer.StartAsync(o => o.MaxMessageSize = 1000);
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        var exact = new string('a', 498) + "\r\n" + new string('b', 498) + "\r\n"; // 1000 octets
        await client.SendAsync(exact + ".\r\n");
        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.Content.Length.Should().Be(1000);

        await client.SendAsync(RawSmtpClientExtensions.Envelope + "DATA\r\n");
        (await client.ReadRepliesAsync(3)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5", "354 Start");
        await client.SendAsync(".." + exact + ".\r\n"); // "..a" unstuffs to ".a": one octet more
        (await client.ReadCodeAsync()).Should().Be("552 5.3.4");
        server.Messages.Count.Should().Be(1);
    }

    [Fact]
    public async Task The_stored_content_keeps_the_final_crlf_and_drops_the_terminator()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("Subject: t\r\n\r\nline 1\r\n\r\n.\r\n");
        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("Subject: t\r\n\r\nline 1\r\n\r\n");
    }

    [Fact]
    public async Task Starttls_inside_data_is_content()
    {
        // T14, as far as it applies without TLS: the line is content, the session stays as it was.
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();
        await client.StartDataAsync();
        await client.SendAsync("STARTTLS\r\n.\r\n");
        (await client.ReadCodeAsync()).Should().Be("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("STARTTLS\r\n");
        (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0");
    }
}
