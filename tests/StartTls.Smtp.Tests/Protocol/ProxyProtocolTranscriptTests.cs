using System.Net;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tests.Transport;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// The PROXY protocol in the engine: a trusted source's header before the greeting (and before TLS) replaces the
/// client address everywhere; a trusted source without a valid header is closed without a word; a header from
/// anyone else is a protocol violation that closes the connection.
/// </summary>
public sealed class ProxyProtocolTranscriptTests : IDisposable
{
    private static readonly IPEndPoint Proxy = new(IPAddress.Parse("10.0.0.5"), 33000);
    private static readonly IPEndPoint Untrusted = new(IPAddress.Parse("203.0.113.7"), 33000);
    private static readonly IPEndPoint Client = new(IPAddress.Parse("192.0.2.10"), 51234);
    private static readonly IPEndPoint Frontend = new(IPAddress.Parse("198.51.100.1"), 25);
    private static readonly IPEndPoint Client6 = new(IPAddress.Parse("2001:db8::10"), 40000);
    private static readonly IPEndPoint Frontend6 = new(IPAddress.Parse("2001:db8:1::1"), 25);

    private readonly FakeTimeProvider _time = new();
    private readonly TestMeters _meters = new();
    private readonly SessionRecorder _recorder = new();

    public void Dispose() => _meters.Dispose();

    private Task<TestServer> StartAsync(Action<SmtpServerOptions>? configure = null, TimeProvider? time = null) => TestServer.StartAsync(o =>
    {
        o.ProxyProtocol.TrustedSources.Add("10.0.0.0/24");
        configure?.Invoke(o);
    }, sessionHandler: _recorder, timeProvider: time, meterFactory: _meters.Factory);

    private static async Task SendMessageAsync(PipeConnection client)
    {
        await client.StartDataAsync(); // EHLO, MAIL, RCPT, DATA
        (await client.CommandAsync("Subject: hi\r\n\r\nhello\r\n.")).Should().StartWith("250");
        (await client.CommandAsync("QUIT")).Should().StartWith("221");
    }

    public static TheoryData<string> Headers => new() { "v1", "v2", "v1-ipv6", "v2-ipv6" };

    private static byte[] Header(string kind) => kind switch
    {
        "v1" => ProxyHeaderBytes.V1(Client, Frontend),
        "v2" => ProxyHeaderBytes.V2(Client, Frontend, ProxyHeaderBytes.Tlv(0x02, "mx.example.com"u8.ToArray())),
        "v1-ipv6" => ProxyHeaderBytes.V1(Client6, Frontend6),
        _ => ProxyHeaderBytes.V2(Client6, Frontend6),
    };

    [Theory]
    [MemberData(nameof(Headers))]
    public async Task A_trusted_proxy_header_makes_the_client_the_remote_address(string kind)
    {
        await using var server = await StartAsync();
        await using var client = PipeConnection.Start(server.Server, remote: Proxy);
        await client.SendAsync(Header(kind));
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
        await SendMessageAsync(client);
        await client.Session;

        var expected = kind.EndsWith("ipv6", StringComparison.Ordinal) ? (Client6, Frontend6) : (Client, Frontend);
        var session = await _recorder.FirstClosed;
        session.RemoteEndPoint.Should().Be(expected.Item1);
        session.LocalEndPoint.Should().Be(expected.Item2);
        session.ProxyEndPoint.Should().Be(Proxy);
        var stored = server.Messages.Messages.Should().ContainSingle().Subject;
        stored.RemoteEndPoint.Should().Be(expected.Item1);
        SmtpTraceHeaders.Format(session, stored.Envelope, "mx.test", DateTimeOffset.UnixEpoch)
            .Should().Contain(kind.EndsWith("ipv6", StringComparison.Ordinal) ? "([IPv6:2001:db8::10])" : "([192.0.2.10])");
    }

    [Fact]
    public async Task The_header_and_a_command_in_one_write_are_both_served()
    {
        await using var server = await StartAsync();
        await using var client = PipeConnection.Start(server.Server, remote: Proxy);
        byte[] bytes = [.. ProxyHeaderBytes.V2(Client, Frontend), .. "NOOP\r\n"u8.ToArray()];
        await client.SendAsync(bytes);
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
        (await client.ReadReplyAsync()).Should().StartWith("250 2.0.0");
    }

    [Fact]
    public async Task A_header_trickled_byte_by_byte_is_read_whole()
    {
        await using var server = await StartAsync();
        await using var client = PipeConnection.Start(server.Server, remote: Proxy);
        var header = ProxyHeaderBytes.V1(Client, Frontend);
        foreach (var b in header[..^1])
        {
            await client.SendPieceAsync(new[] { b });
            client.IsSilent().Should().BeTrue("nothing is said before the header is complete");
        }

        await client.SendAsync(header.AsMemory(header.Length - 1));
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
        await client.CompleteInputAsync();
        await client.Session;
        (await _recorder.FirstClosed).RemoteEndPoint.Should().Be(Client);
    }

    [Fact]
    public async Task A_local_header_keeps_the_proxy_address()
    {
        await using var server = await StartAsync();
        await using var client = PipeConnection.Start(server.Server, remote: Proxy);
        await client.SendAsync(ProxyHeaderBytes.Raw(0x20, 0x00, []));
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
        (await client.CommandAsync("QUIT")).Should().StartWith("221");
        await client.Session;
        var session = await _recorder.FirstClosed;
        session.RemoteEndPoint.Should().Be(Proxy);
        session.ProxyEndPoint.Should().BeNull();
    }

    public static TheoryData<string, string> Missing => new()
    {
        { "EHLO client.test\r\n", "SMTP without a header" },
        { "PROXY TCP4 192.0.2.10 198.51.100.1 51234\r\n", "a malformed v1 header" },
        { "PROXY TCP4 192.0.2.10 198.51.100.1 51234 25 " + new string('x', 200), "a v1 header over 107 bytes" },
        { "\r\n\r\n\0\r\nQUIT\n\u0031\u0011\0\u0001", "a v2 header of a version 3" },
    };

    [Theory]
    [MemberData(nameof(Missing))]
    public async Task A_trusted_source_without_a_valid_header_is_closed_without_a_reply(string sent, string because)
    {
        using var violations = _meters.Collect<long>("smtp.server.protocol_violations");
        await using var server = await StartAsync();
        await using var client = PipeConnection.Start(server.Server, remote: Proxy);
        await client.SendAsync(Encoding.Latin1.GetBytes(sent));
        (await client.ReadToEndAsync()).Should().BeEmpty(because);
        await client.Session;
        _recorder.Connected.Should().BeEmpty("the session never started");
        violations.GetMeasurementSnapshot().Select(m => m.Tags["kind"]).Should().Equal("proxy_header_invalid");
    }

    [Fact]
    public async Task A_trusted_source_that_closes_before_its_header_ends_is_closed_without_a_reply()
    {
        await using var server = await StartAsync();
        await using var client = PipeConnection.Start(server.Server, remote: Proxy);
        await client.SendAsync("PROXY TCP4 192.0.2.10");
        await client.CompleteInputAsync();
        (await client.ReadToEndAsync()).Should().BeEmpty();
        await client.Session;
    }

    [Fact]
    public async Task A_trusted_source_that_sends_no_header_in_time_is_closed_without_a_reply()
    {
        using var timeouts = _meters.Collect<long>("smtp.server.timeouts");
        await using var server = await StartAsync(o => o.ProxyProtocol.HeaderTimeout = TimeSpan.FromSeconds(5), _time);
        await using var client = PipeConnection.Start(server.Server, remote: Proxy);
        await client.SendPieceAsync("PROXY TCP4 ");

        _time.Advance(TimeSpan.FromSeconds(4.5));
        client.IsSilent().Should().BeTrue();
        client.Session.IsCompleted.Should().BeFalse("the header timeout has not passed");

        _time.Advance(TimeSpan.FromSeconds(1.5));
        (await client.ReadToEndAsync()).Should().BeEmpty();
        await client.Session;
        timeouts.GetMeasurementSnapshot().Select(m => m.Tags["phase"]).Should().Equal("proxy_header");
    }

    [Theory]
    [InlineData("PROXY TCP4 192.0.2.66 198.51.100.1 51234 25\r\n")]
    [InlineData("PROXY UNKNOWN\r\n")]
    public async Task A_v1_header_from_an_untrusted_client_is_a_violation_that_closes(string header)
    {
        using var violations = _meters.Collect<long>("smtp.server.protocol_violations");
        await using var server = await StartAsync();
        await using var client = PipeConnection.Start(server.Server, remote: Untrusted);
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test", "an untrusted client is served as any client");
        await client.SendAsync(header + "EHLO client.test\r\n");
        (await client.ReadToEndAsync()).Should().Be("554 5.7.0 PROXY protocol header not accepted from your address\r\n");
        await client.Session;
        (await _recorder.FirstClosed).RemoteEndPoint.Should().Be(Untrusted);
        violations.GetMeasurementSnapshot().Select(m => m.Tags["kind"]).Should().Equal("proxy_header_untrusted");
    }

    [Fact]
    public async Task A_v2_header_from_an_untrusted_client_is_a_violation_that_closes()
    {
        await using var server = await StartAsync();
        await using var client = PipeConnection.Start(server.Server, remote: Untrusted);
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
        await client.SendAsync(ProxyHeaderBytes.V2(new IPEndPoint(IPAddress.Parse("192.0.2.66"), 1), Frontend));
        (await client.ReadToEndAsync()).Should().Be("554 5.7.0 PROXY protocol header not accepted from your address\r\n");
        await client.Session;
        (await _recorder.FirstClosed).RemoteEndPoint.Should().Be(Untrusted);
    }

    [Fact]
    public async Task Without_trusted_sources_a_header_is_refused_from_everyone()
    {
        await using var server = await TestServer.StartAsync(sessionHandler: _recorder);
        await using var client = PipeConnection.Start(server.Server, remote: Proxy);
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
        await client.SendAsync(ProxyHeaderBytes.V1(Client, Frontend));
        (await client.ReadToEndAsync()).Should().StartWith("554 5.7.0");
    }

    [Fact]
    public async Task An_untrusted_client_is_not_asked_for_a_header()
    {
        await using var server = await StartAsync();
        await using var client = PipeConnection.Start(server.Server, remote: Untrusted);
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
        await SendMessageAsync(client);
        server.Messages.Messages.Should().ContainSingle().Which.RemoteEndPoint.Should().Be(Untrusted);
    }

    [Fact]
    public async Task The_per_address_limit_counts_the_clients_behind_the_proxy()
    {
        using var refused = _meters.Collect<long>("smtp.server.connections.refused");
        await using var server = await StartAsync(o => o.MaxConnectionsPerIp = 1);
        var other = new IPEndPoint(IPAddress.Parse("192.0.2.11"), 1000);

        // Two clients through one proxy: the proxy's own address is not what the limit counts.
        await using var first = PipeConnection.Start(server.Server, remote: Proxy);
        await first.SendAsync(ProxyHeaderBytes.V1(Client, Frontend));
        (await first.ReadReplyAsync()).Should().StartWith("220 mx.test");
        await using var second = PipeConnection.Start(server.Server, remote: Proxy);
        await second.SendAsync(ProxyHeaderBytes.V2(other, Frontend));
        (await second.ReadReplyAsync()).Should().StartWith("220 mx.test");

        // The same client again: over its limit once its header names it.
        await using var third = PipeConnection.Start(server.Server, remote: Proxy);
        await third.SendAsync(ProxyHeaderBytes.V1(new IPEndPoint(Client.Address, 2), Frontend));
        (await third.ReadToEndAsync()).Should().Be("421 4.7.0 Too many connections from your address, try again later\r\n");
        await third.Session;
        refused.GetMeasurementSnapshot().Select(m => m.Tags["reason"]).Should().Equal("max_connections_per_ip");

        // Its slot is given back when the first session ends.
        (await first.CommandAsync("QUIT")).Should().StartWith("221");
        await first.Session;
        await using var fourth = PipeConnection.Start(server.Server, remote: Proxy);
        await fourth.SendAsync(ProxyHeaderBytes.V1(new IPEndPoint(Client.Address, 3), Frontend));
        (await fourth.ReadReplyAsync()).Should().StartWith("220 mx.test");
        (await fourth.CommandAsync("QUIT")).Should().StartWith("221");
        (await second.CommandAsync("QUIT")).Should().StartWith("221");
        await fourth.Session;
        await second.Session;
        server.Server.Limiter.Count.Should().Be(0);
    }

    [Fact]
    public async Task On_an_implicit_tls_endpoint_the_header_comes_before_the_handshake()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.Implicit(o => o.ProxyProtocol.TrustedSources.Add("127.0.0.1")), sessionHandler: _recorder);
        await using var raw = await RawSmtpClient.ConnectAsync(server.EndPoint);
        await raw.SendAsync(ProxyHeaderBytes.V2(Client, Frontend));
        await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket, "mx.test");
        (await tls.ReadReplyAsync()).Should().StartWith("220 mx.test");
        (await tls.CommandAsync("QUIT")).Should().StartWith("221");
        var session = await _recorder.FirstClosed;
        session.RemoteEndPoint.Should().Be(Client);
        session.IsSecure.Should().BeTrue();
    }

    [Fact]
    public async Task On_an_implicit_tls_endpoint_a_header_from_an_untrusted_client_is_closed_without_plaintext()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.Implicit(o => o.ProxyProtocol.TrustedSources.Add("127.0.0.2")), sessionHandler: _recorder);
        await using var raw = await RawSmtpClient.ConnectAsync(server.EndPoint);
        await raw.SendAsync(ProxyHeaderBytes.V1(Client, Frontend));
        (await raw.ReadToEndAsync()).Should().BeEmpty("the header is not a TLS handshake");
        _recorder.Connected.Should().BeEmpty();
    }

    [Fact]
    public async Task A_stop_ends_a_connection_waiting_for_its_header_without_a_word()
    {
        // Far longer than the stop may take below: a stop held by the header wait cannot pass.
        await using var server = await StartAsync(o =>
        {
            o.ProxyProtocol.HeaderTimeout = TimeSpan.FromMinutes(5);
            o.ShutdownTimeout = TimeSpan.FromMinutes(5);
        });
        await using var client = PipeConnection.Start(server.Server, remote: Proxy);
        await client.SendPieceAsync("PROXY TCP4 192.0.2.10 ");
        // A connection waiting for its header is idle: the stop ends it at once instead of waiting five minutes.
        await server.Server.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await client.Session;
        (await client.ReadToEndAsync()).Should().BeEmpty("nothing is said before the header");
    }

    [Fact]
    public async Task The_log_names_the_client_and_the_proxy()
    {
        using var logs = new LogCapture();
        await using var server = await TestServer.StartAsync(o => o.ProxyProtocol.TrustedSources.Add("10.0.0.0/24"), loggerFactory: logs);
        await using var client = PipeConnection.Start(server.Server, remote: Proxy);
        await client.SendAsync(ProxyHeaderBytes.V2(Client, Frontend));
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
        (await client.CommandAsync("QUIT")).Should().StartWith("221");
        await client.Session;
        logs.Lines.Should().Contain(l => l.Contains("PROXY v2 header from 10.0.0.5:33000: client 192.0.2.10:51234, connected to 198.51.100.1:25", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("not-an-address")]
    [InlineData("10.1/16")]
    public void A_bad_trusted_source_is_refused_at_start(string entry)
    {
        var options = new SmtpServerOptions();
        options.ProxyProtocol.TrustedSources.Add(entry);
        options.Xclient.TrustedSources.Add(entry);
        var act = () => new SmtpServer(options, new InMemoryMessageStore());
        act.Should().Throw<OptionsValidationException>()
            .Which.Failures.Should().Contain($"ProxyProtocol.TrustedSources: '{entry}' is not an IP address or CIDR block (for example 10.0.0.0/8).")
            .And.Contain($"Xclient.TrustedSources: '{entry}' is not an IP address or CIDR block (for example 127.0.0.1).");
    }

    [Fact]
    public void The_trusted_sources_bind_from_configuration()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ProxyProtocol:TrustedSources:0"] = "10.0.0.0/8",
            ["ProxyProtocol:TrustedSources:1"] = "2001:db8::/32",
            ["ProxyProtocol:HeaderTimeout"] = "00:00:03",
            ["Xclient:TrustedSources:0"] = "127.0.0.1",
        }).Build();
        var options = new SmtpServerOptions();
        Microsoft.Extensions.Configuration.ConfigurationBinder.Bind(configuration, options);
        options.ProxyProtocol.TrustedSources.Should().Equal("10.0.0.0/8", "2001:db8::/32");
        options.ProxyProtocol.HeaderTimeout.Should().Be(TimeSpan.FromSeconds(3));
        options.Xclient.TrustedSources.Should().Equal("127.0.0.1");
    }
}
