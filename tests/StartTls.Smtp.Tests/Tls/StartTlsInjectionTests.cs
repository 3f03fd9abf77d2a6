using System.Text;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// The hard cutover on raw sockets (docs/threat-model.md T01–T03, T05–T07, T09, T16): a byte behind STARTTLS in the read buffer
/// gets 554 5.5.0 and close with no 220; after the 220 only a TLS handshake record is accepted, anything else closes
/// the connection without a reply.
/// </summary>
public sealed class StartTlsInjectionTests
{
    private static readonly TimeSpan CloseWithin = TimeSpan.FromSeconds(5);

    private static Task<TestServer> StartAsync(SessionRecorder? store = null)
        => TestServer.StartAsync(TlsTestKit.WithCertificate(), store);

    /// <summary>Connects, reads the greeting and EHLO (the P of the catalogue).</summary>
    private static async Task<RawSmtpClient> GreetedAsync(TestServer server, string ehlo = "c.test")
    {
        var client = await server.ConnectAsync();
        (await client.EhloAsync(ehlo)).Should().Contain("250-STARTTLS");
        return client;
    }

    /// <summary>Everything the server says until it closes: exactly one 554 5.5.0 line, never a 220.</summary>
    private static async Task ExpectPipeliningRejectionAsync(RawSmtpClient client, int repliesBefore = 0)
    {
        for (var i = 0; i < repliesBefore; i++)
        {
            (await client.ReadReplyAsync()).Should().StartWith("250");
        }

        var rest = await client.ReadToEndAsync(CloseWithin);
        rest.Should().StartWith("554 5.5.0 ").And.NotContain("220");
        rest.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Should().ContainSingle("only the 554, then close");
    }

    [Theory]
    [InlineData("STARTTLS\r\nRSET\r\n")] // T01, Venema's form
    [InlineData("STARTTLS\r\nNOOP\r\n")]
    [InlineData("starttls\r\nrset\r\n")]
    [InlineData("STARTTLS\r\nEHLO commandinjectiontester\r\n")] // T02's second write
    [InlineData("STARTTLS\r\nSTARTTLS\r\n")] // T16: at most one 220; here none
    [InlineData("STARTTLS\r\n\r\n")] // even an empty line
    [InlineData("STARTTLS\r\nR")] // a partial line
    [InlineData("STARTTLS\r\n\n")] // a bare LF
    [InlineData("STARTTLS\r\n\x16")] // the first byte of a ClientHello
    public async Task T01_bytes_behind_starttls_in_the_same_segment_get_554_and_close(string group)
    {
        await using var server = await StartAsync();
        await using var client = await GreetedAsync(server);
        await client.SendAsync(group);
        await ExpectPipeliningRejectionAsync(client);
    }

    [Fact]
    public async Task T01_a_group_ending_in_an_injected_command_after_starttls_runs_the_commands_before_it_only()
    {
        await using var server = await StartAsync();
        await using var client = await server.ConnectAsync();
        await client.SendAsync("EHLO c.test\r\nNOOP\r\nSTARTTLS\r\nRSET\r\n");
        (await client.ReadReplyAsync()).Should().StartWith("250-mx.test");
        await ExpectPipeliningRejectionAsync(client, repliesBefore: 1);
    }

    [Theory]
    [InlineData("STARTTLS\r", "\nRSET\r\n")] // the STARTTLS line is completed by the segment that carries the injection
    [InlineData("STARTT", "LS\r\nRSET\r\n")]
    public async Task T01_starttls_line_split_across_segments_with_the_injection_in_the_last_one_gets_554(string first, string second)
    {
        // In memory, so the first piece is read (and waited on) before the second exists: the split is certain.
        await using var server = await StartAsync();
        await using var client = await PipeConnection.ConnectAsync(server);
        (await client.EhloAsync("c.test")).Should().Contain("250-STARTTLS");
        await client.SendPieceAsync(first);
        await client.SendAsync(second);

        var rest = await client.ReadToEndAsync(CloseWithin);
        rest.Should().StartWith("554 5.5.0 ").And.NotContain("220");
        rest.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Should().ContainSingle("only the 554, then close");
    }

    [Fact]
    public async Task T01_injection_in_a_later_segment_becomes_handshake_input_and_closes_without_a_reply()
    {
        await using var server = await StartAsync();
        await using var client = await GreetedAsync(server);
        await client.SendAsync("STARTTLS\r\n");

        // The 220 is read before the RSET is sent, so the RSET cannot share a read with the STARTTLS: its bytes reach
        // the handshake, which refuses them.
        (await client.ReadReplyAsync()).Should().Be("220 2.0.0 Ready to start TLS");
        await client.SendAsync("RSET\r\n");
        var after = await Wire.ReceiveUntilClosedAsync(client.Socket, CloseWithin);
        after.Closed.Should().BeTrue(after.ToString());
        after.HasNoPlaintext.Should().BeTrue(after.ToString());
    }

    [Fact]
    public async Task T02_east_command_injection_tester_sees_no_220()
    {
        await using var server = await StartAsync();
        await using var client = await server.ConnectAsync();
        await client.SendAsync("EHLO commandinjectiontester\r\n");
        (await client.ReadReplyAsync()).Should().StartWith("250-mx.test");
        await client.SendAsync("STARTTLS\r\nEHLO commandinjectiontester\r\n");

        // zgrab2/EAST: "no 220" is the not-vulnerable bucket; the handshake can never start.
        await ExpectPipeliningRejectionAsync(client);
    }

    [Fact]
    public async Task T03_plaintext_command_after_the_220_then_a_client_hello_gets_no_reply()
    {
        await using var server = await StartAsync();
        await using var client = await GreetedAsync(server);
        (await client.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        await client.SendAsync("NOOP\r\n");
        await Wire.TrySendAsync(client.Socket, await ClientHello.ModernAsync());

        var after = await Wire.ReceiveUntilClosedAsync(client.Socket, CloseWithin);
        after.Closed.Should().BeTrue(after.ToString());
        after.Data.Should().BeEmpty("0x4E is not a TLS content type: no SMTP reply, no ServerHello ({0})", after);
    }

    [Fact]
    public async Task T05_credential_theft_prefix_stores_nothing_and_never_gets_354()
    {
        var store = new SessionRecorder();
        await using var server = await StartAsync(store);
        await using var attacker = await GreetedAsync(server);
        await attacker.SendAsync("STARTTLS\r\nMAIL FROM:<att@c.test>\r\nRCPT TO:<att@s.test>\r\nDATA\r\n");
        var replies = await attacker.ReadToEndAsync(CloseWithin);
        replies.Should().StartWith("554 5.5.0").And.NotContain("354").And.NotContain("220").And.NotContain("250");

        // The victim's own session afterwards is a normal one: EHLO inside TLS gets the full 250 reply.
        var (raw, tls) = await server.ConnectWithStartTlsAsync();
        await using (raw)
        await using (tls)
        {
            var ehlo = await tls.EhloAsync("victim");
            ehlo.Should().StartWith("250-mx.test").And.Contain("250 HELP");
            (await tls.CommandAsync("AUTH PLAIN AHZpY3RpbQBzZWNyZXQ=")).Should().NotStartWith("354").And.NotStartWith("2");
            (await tls.CommandAsync("QUIT")).Should().StartWith("221");
        }

        store.Inner.Count.Should().Be(0);
        store.Snapshots.Should().BeEmpty();
    }

    [Fact]
    public async Task T05_credential_theft_prefix_sent_after_the_220_closes_the_connection()
    {
        var store = new SessionRecorder();
        await using var server = await StartAsync(store);
        await using var client = await GreetedAsync(server);
        (await client.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        await client.SendAsync("MAIL FROM:<att@c.test>\r\nRCPT TO:<att@s.test>\r\nDATA\r\n");
        var after = await Wire.ReceiveUntilClosedAsync(client.Socket, CloseWithin);
        after.Closed.Should().BeTrue(after.ToString());
        after.Data.Should().BeEmpty(after.ToString());
        store.Inner.Count.Should().Be(0);
    }

    public static TheoryData<string> NotAClientHello => new()
    {
        "EHLO c.test\r\n",
        "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        "NOOP\r\n",
        "\r\n",
        "\x15\x03\x03\x00\x02\x02\x28", // an alert record: a valid TLS record, but not a handshake
        "\x17\x03\x03\x00\x05hello", // application data before any handshake
    };

    [Theory]
    [MemberData(nameof(NotAClientHello))]
    public async Task T06_anything_but_a_handshake_record_after_the_220_closes_without_a_reply(string bytes)
    {
        await using var server = await StartAsync();
        await using var client = await GreetedAsync(server);
        (await client.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        await client.SendAsync(bytes);
        var after = await Wire.ReceiveUntilClosedAsync(client.Socket, CloseWithin);
        after.Closed.Should().BeTrue(after.ToString());
        after.Data.Should().BeEmpty("no SMTP, HTTP or TLS reply ({0})", after);
    }

    [Theory]
    [InlineData("\r\n")]
    [InlineData("\n")]
    [InlineData(" ")]
    [InlineData("NOOP\r\n")]
    public async Task T06_a_client_hello_behind_junk_is_never_skipped_to(string junk)
    {
        await using var server = await StartAsync();
        await using var client = await GreetedAsync(server);
        (await client.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        await client.SendAsync(Wire.Concat(Wire.Ascii(junk), await ClientHello.ModernAsync()));

        // A server that skipped ahead to the 0x16 would answer with a ServerHello (0x16 ...).
        var after = await Wire.ReceiveUntilClosedAsync(client.Socket, CloseWithin);
        after.Closed.Should().BeTrue(after.ToString());
        after.Data.Should().BeEmpty(after.ToString());
    }

    [Fact]
    public async Task T07_client_hello_glued_to_starttls_gets_554_and_close_with_no_220_and_no_500s()
    {
        await using var server = await StartAsync();
        await using var client = await GreetedAsync(server);
        await client.SendAsync(Wire.Concat(Wire.Ascii("STARTTLS\r\n"), await ClientHello.ModernAsync()));
        var rest = await client.ReadToEndAsync(CloseWithin);
        rest.Should().StartWith("554 5.5.0 ").And.NotContain("220").And.NotContain("500");
        rest.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Should().ContainSingle();
    }

    [Fact]
    public async Task T09_a_legal_group_ending_in_starttls_gets_exactly_its_replies_then_silence_inside_tls()
    {
        await using var server = await StartAsync();
        await using var client = await GreetedAsync(server);
        await client.SendAsync("RSET\r\nSTARTTLS\r\n");

        var bytes = await Wire.ReceiveLinesExactlyAsync(client.Socket, 2, quiet: TimeSpan.FromMilliseconds(300));
        Encoding.Latin1.GetString(bytes).Should().Be("250 2.0.0 OK\r\n220 2.0.0 Ready to start TLS\r\n", "exactly these bytes, in this order, with nothing after the 220");

        await using var tls = await TlsSmtpClient.HandshakeAsync(client.Socket);
        (await tls.IsSilentForAsync(TimeSpan.FromSeconds(2))).Should().BeTrue("no second greeting and no pre-TLS reply resent inside TLS");
        (await tls.EhloAsync()).Should().StartWith("250-mx.test");
    }

    [Fact]
    public async Task T16_starttls_twice_in_separate_segments_gets_one_220_and_the_second_becomes_handshake_input()
    {
        await using var server = await StartAsync();
        await using var client = await GreetedAsync(server);
        (await client.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        await client.SendAsync("STARTTLS\r\n");
        var after = await Wire.ReceiveUntilClosedAsync(client.Socket, CloseWithin);
        after.Closed.Should().BeTrue(after.ToString());
        after.Data.Should().BeEmpty(after.ToString());
    }
}
