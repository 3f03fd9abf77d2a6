using System.Net.Sockets;
using Microsoft.Extensions.Time.Testing;
using System.Diagnostics;
using System.Globalization;
using System.Security.Authentication;
using StartTls.Smtp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// Implicit TLS, failed and slow handshakes, renegotiation and downgrade (docs/threat-model.md T50–T53): a handshake that does
/// not complete ends the connection, and nothing is ever said in plaintext afterwards.
/// </summary>
public sealed class TlsHandshakeTests(ITestOutputHelper log)
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(1);

    private const byte ProtocolVersionAlert = 70;
    private const byte HandshakeFailureAlert = 40;
    private const byte InappropriateFallbackAlert = 86;

    private static Task<TestServer> StartAsync(bool withImplicitEndpoint = true, ISessionHandler? handler = null, TimeSpan? handshakeTimeout = null, TimeProvider? time = null) => TestServer.StartAsync(TlsTestKit.WithCertificate(o =>
    {
        o.Tls.HandshakeTimeout = handshakeTimeout ?? HandshakeTimeout;
        if (withImplicitEndpoint)
        {
            o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0", ImplicitTls = true });
        }
    }), sessionHandler: handler, timeProvider: time);

    private static async Task<RawSmtpClient> AfterStartTlsAsync(TestServer server)
    {
        var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        return client;
    }

    private static Task<RawSmtpClient> ImplicitAsync(TestServer server) => RawSmtpClient.ConnectAsync(server.Server.ListeningEndPoints[1]);

    [Fact]
    public async Task T50_implicit_tls_says_nothing_before_the_handshake_then_greets_inside_tls()
    {
        var recorder = new SessionRecorder();
        await using var server = await StartAsync(handler: recorder, handshakeTimeout: TimeSpan.FromSeconds(10));
        await using (var raw = await ImplicitAsync(server))
        {
            var silence = await Wire.ReceiveUntilClosedAsync(raw.Socket, TimeSpan.FromSeconds(1));
            silence.Data.Should().BeEmpty("no plaintext greeting on an implicit-TLS port ({0})", silence);
            silence.Closed.Should().BeFalse();

            await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket);
            (await tls.ReadReplyAsync()).Should().Be("220 mx.test ESMTP ready");
            (await tls.EhloAsync()).Should().StartWith("250-mx.test").And.NotContain("STARTTLS");
            (await tls.CommandAsync("QUIT")).Should().StartWith("221");
        }

        await recorder.WaitForCloseAsync();
        var session = recorder.Closed.Should().ContainSingle().Subject;
        session.Tls!.IsImplicit.Should().BeTrue();
        session.ProtocolName.Should().Be("ESMTPS");
        recorder.Connected.Should().ContainSingle().Which.Tls.Should().NotBeNull("on an implicit-TLS endpoint the connect hook runs after the handshake");
    }

    [Theory]
    [InlineData("EHLO c.test\r\n")]
    [InlineData("QUIT\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\n\r\n")]
    public async Task T50_plaintext_on_the_implicit_port_closes_without_an_smtp_reply(string text)
    {
        await using var server = await StartAsync();
        await using var raw = await ImplicitAsync(server);
        await raw.SendAsync(text);
        var after = await Wire.ReceiveUntilClosedAsync(raw.Socket, TimeSpan.FromSeconds(5));
        after.Closed.Should().BeTrue(after.ToString());
        after.Data.Should().BeEmpty(after.ToString());
    }

    [Fact]
    public async Task T50_a_connection_over_the_limit_on_the_implicit_port_gets_no_plaintext_421()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.Implicit(o => o.MaxConnectionsPerIp = 1));
        var (raw, tls) = await server.ConnectImplicitAsync();
        await using (raw)
        await using (tls)
        {
            await using var second = await RawSmtpClient.ConnectAsync(server.EndPoint);
            var after = await Wire.ReceiveUntilClosedAsync(second.Socket, TimeSpan.FromSeconds(5));
            after.Closed.Should().BeTrue(after.ToString());
            after.HasNoPlaintext.Should().BeTrue("a TLS client must not receive plaintext on an implicit-TLS port: " + after);
        }
    }

    public static TheoryData<string, ushort, ushort[], byte> RefusedHellos => new()
    {
        // name, legacy version, cipher suites, the alert OpenSSL sends
        { "TLS 1.0 only", 0x0301, [0xc009, 0xc013, 0x002f, 0x0035], ProtocolVersionAlert },
        { "TLS 1.1 only", 0x0302, [0xc009, 0xc013, 0x002f, 0x0035], ProtocolVersionAlert },
        { "TLS 1.2, RC4 and 3DES only", 0x0303, [0x0005, 0x000a, 0xc012], HandshakeFailureAlert },
    };

    [Theory]
    [MemberData(nameof(RefusedHellos))]
    public async Task T51_a_refused_client_hello_after_starttls_gets_an_alert_then_close_and_never_plaintext(string name, ushort version, ushort[] suites, byte alert)
    {
        await using var server = await StartAsync();
        await using var raw = await AfterStartTlsAsync(server);
        await raw.SendAsync(ClientHello.Build(version, suites));
        var after = await Wire.ReceiveUntilClosedAsync(raw.Socket, TimeSpan.FromSeconds(5));
        after.Closed.Should().BeTrue(name + ": " + after);
        after.AlertDescriptions().Should().NotBeNull(name + ": only TLS alerts may come back, got " + after);
        after.AlertDescriptions().Should().Equal([alert], name + ": " + after);
    }

    [Theory]
    [MemberData(nameof(RefusedHellos))]
    public async Task T51_a_refused_client_hello_on_the_implicit_port_gets_an_alert_then_close(string name, ushort version, ushort[] suites, byte alert)
    {
        await using var server = await StartAsync();
        await using var raw = await ImplicitAsync(server);
        await raw.SendAsync(ClientHello.Build(version, suites));
        var after = await Wire.ReceiveUntilClosedAsync(raw.Socket, TimeSpan.FromSeconds(5));
        after.Closed.Should().BeTrue(name + ": " + after);
        after.AlertDescriptions().Should().Equal([alert], name + ": " + after);
    }

    [SkippableFact]
    public async Task T51_openssl_offering_only_tls_1_1_fails_the_handshake_and_gets_no_plaintext()
    {
        await using var server = await StartAsync();
        var result = await CliTool.RunAsync("openssl",
        [
            "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:" + server.Port.ToString(CultureInfo.InvariantCulture),
            "-servername", "mx.test", "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0", "-msg",
        ], standardInput: "EHLO after.test\r\n", timeout: TimeSpan.FromSeconds(15));

        log.WriteLine(result.ToString());
        result.ExitCode.Should().NotBe(0, result.ToString());
        result.All.Should().Contain("ClientHello", "the client did offer TLS 1.1: " + result);
        result.All.Should().NotContain("ServerHello", result.ToString());
        result.All.Should().Contain("SSL alert number 70", "protocol_version: " + result);
        // A reply line, not "read 250 bytes" in openssl's summary (which depends on the EHLO reply's length).
        result.All.Should().NotMatchRegex("(?m)^250[ -]", "nothing answers in plaintext after the failed handshake: " + result);
    }

    [Fact]
    public async Task T52_silence_after_the_220_closes_within_the_handshake_timeout()
    {
        var time = new FakeTimeProvider();
        await using var server = await StartAsync(withImplicitEndpoint: false, time: time);
        await using var raw = await AfterStartTlsAsync(server);
        await ExpectClosedByTimeoutAsync(raw, time);
    }

    [Fact]
    public async Task T52_a_partial_record_header_after_the_220_closes_within_the_handshake_timeout()
    {
        var time = new FakeTimeProvider();
        await using var server = await StartAsync(withImplicitEndpoint: false, time: time);
        await using var raw = await AfterStartTlsAsync(server);
        await raw.SendAsync([0x16, 0x03, 0x01, 0x02, 0x00]);
        await ExpectClosedByTimeoutAsync(raw, time);
    }

    [Fact]
    public async Task T52_a_client_hello_missing_its_last_byte_closes_within_the_handshake_timeout()
    {
        var time = new FakeTimeProvider();
        await using var server = await StartAsync(withImplicitEndpoint: false, time: time);
        await using var raw = await AfterStartTlsAsync(server);
        var hello = await ClientHello.ModernAsync();
        await raw.SendAsync(hello[..^1]);
        await ExpectClosedByTimeoutAsync(raw, time);
    }

    [Fact]
    public async Task T52_silence_on_the_implicit_port_closes_within_the_handshake_timeout()
    {
        var time = new FakeTimeProvider();
        await using var server = await StartAsync(time: time);
        await using var raw = await ImplicitAsync(server);
        await ExpectClosedByTimeoutAsync(raw, time);
    }

    [Fact]
    public async Task T52_a_partial_record_on_the_implicit_port_closes_within_the_handshake_timeout()
    {
        var time = new FakeTimeProvider();
        await using var server = await StartAsync(time: time);
        await using var raw = await ImplicitAsync(server);
        await raw.SendAsync([0x16, 0x03, 0x01, 0x02, 0x00]);
        await ExpectClosedByTimeoutAsync(raw, time);
    }

    [Fact]
    public async Task T52_a_handshake_timeout_leaves_the_server_serving_others()
    {
        await using var server = await StartAsync(withImplicitEndpoint: false);
        await using var stalled = await AfterStartTlsAsync(server);
        var (raw, tls) = await server.ConnectWithStartTlsAsync();
        await using (raw)
        await using (tls)
        {
            (await tls.EhloAsync()).Should().StartWith("250-");
        }

        var after = await Wire.ReceiveUntilClosedAsync(stalled.Socket, HandshakeTimeout + TimeSpan.FromSeconds(4));
        after.Closed.Should().BeTrue(after.ToString());
        after.Data.Should().BeEmpty(after.ToString());
    }

    [Fact]
    public async Task T53_a_tls_1_2_hello_with_fallback_scsv_gets_inappropriate_fallback()
    {
        await using var server = await StartAsync();
        await using var raw = await AfterStartTlsAsync(server);
        await raw.SendAsync(ClientHello.Build(0x0303, [0xc02b, 0xc02f, 0xc02c, 0xc030, 0x5600]));
        var after = await Wire.ReceiveUntilClosedAsync(raw.Socket, TimeSpan.FromSeconds(5));
        after.Closed.Should().BeTrue(after.ToString());
        after.AlertDescriptions().Should().Equal([InappropriateFallbackAlert], after.ToString());
    }

    [Fact]
    public async Task T53_the_same_tls_1_2_hello_without_fallback_scsv_handshakes()
    {
        // The control for the test above: the hand-built hello is acceptable except for the SCSV.
        await using var server = await StartAsync();
        await using var raw = await AfterStartTlsAsync(server);
        await raw.SendAsync(ClientHello.Build(0x0303, [0xc02b, 0xc02f, 0xc02c, 0xc030]));
        var reply = await Wire.ReceiveUntilClosedAsync(raw.Socket, TimeSpan.FromSeconds(1));
        reply.Data.Should().NotBeEmpty(reply.ToString());
        reply.Data[0].Should().Be(0x16, "a ServerHello: " + reply);
        reply.Data[9..11].Should().Equal([0x03, 0x03], "TLS 1.2 was chosen: " + reply);
    }

    [Fact]
    public async Task T53_a_dotnet_client_limited_to_tls_1_2_handshakes_and_the_session_records_it()
    {
        var recorder = new SessionRecorder();
        await using var server = await StartAsync(handler: recorder);
        await using (var raw = await AfterStartTlsAsync(server))
        {
            await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket, protocols: SslProtocols.Tls12);
            tls.Stream.SslProtocol.Should().Be(SslProtocols.Tls12);
            (await tls.CommandAsync("QUIT")).Should().StartWith("221");
        }

        await recorder.WaitForCloseAsync();
        recorder.Closed.Should().ContainSingle().Which.Tls!.Protocol.Should().Be(SslProtocols.Tls12);
    }

    [SkippableFact]
    public async Task T53_client_initiated_tls_1_2_renegotiation_is_refused()
    {
        await using var server = await StartAsync();
        using var client = CliTool.Start("openssl",
        [
            "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:" + server.Port.ToString(CultureInfo.InvariantCulture),
            "-servername", "mx.test", "-tls1_2", "-msg", "-crlf",
        ]);
        (await client.WaitForOutputAsync("Verify return code", TimeSpan.FromSeconds(10))).Should().BeTrue(client.Output);
        await Task.Delay(200);

        // s_client: a line starting with R renegotiates (SSL_renegotiate, a new ClientHello on the live connection).
        await client.WriteAsync("R\n");
        await client.WaitForExitAsync(TimeSpan.FromSeconds(3));
        await client.WriteAsync("EHLO after.test\n");
        await client.WaitForExitAsync(TimeSpan.FromSeconds(2));
        var output = client.Output;
        log.WriteLine(output);

        // What happens here (.NET on Linux): SslStream throws "The remote party requested renegotiation when
        // AllowRenegotiation was set to false", the session ends and the socket closes; s_client reports the EOF.
        // A no_renegotiation alert (100) would pass too.
        output.Should().Contain("RENEGOTIATING", "s_client did try: " + output);
        var afterRenegotiation = output[output.IndexOf("RENEGOTIATING", StringComparison.Ordinal)..];
        CountServerHellos(output).Should().Be(1, "no second handshake was completed: " + output);
        afterRenegotiation.Should().MatchRegex("unexpected eof|<<< TLS [0-9.]+, Alert .*no_renegotiation|SSL alert number 100", "the server refused: " + output);
        afterRenegotiation.Should().NotContain("250", "no SMTP reply after the refused renegotiation");
        client.HasExited.Should().BeTrue("s_client gave up on the connection: " + output);

        // And the server is fine afterwards.
        var (raw, tls) = await server.ConnectWithStartTlsAsync();
        await using (raw)
        await using (tls)
        {
            (await tls.EhloAsync()).Should().StartWith("250-");
        }
    }

    private static int CountServerHellos(string output)
        => output.Split('\n').Count(l => l.StartsWith("<<<", StringComparison.Ordinal) && l.Contains("ServerHello", StringComparison.Ordinal) && !l.Contains("ServerHelloDone", StringComparison.Ordinal));

    /// <summary>
    /// On the server's fake clock: nothing happens until the handshake timeout has passed; past it the connection is
    /// closed without a plaintext byte. The clock steps a second at a time past the timeout, so that a timer armed
    /// just after the client read the 220 passes too.
    /// </summary>
    private static async Task ExpectClosedByTimeoutAsync(RawSmtpClient raw, FakeTimeProvider time)
    {
        time.Advance(HandshakeTimeout - TimeSpan.FromMilliseconds(1));
        raw.Socket.Poll(0, SelectMode.SelectRead).Should().BeFalse("nothing is sent or closed before the handshake timeout");

        var after = default(WireCapture);
        for (var step = 0; step < 5 && after?.Closed != true; step++)
        {
            time.Advance(TimeSpan.FromSeconds(1));
            after = await Wire.ReceiveUntilClosedAsync(raw.Socket, TimeSpan.FromSeconds(10));
        }

        after!.Closed.Should().BeTrue("closed once the handshake timeout has passed: " + after);
        after.HasNoPlaintext.Should().BeTrue(after.ToString());
    }
}
