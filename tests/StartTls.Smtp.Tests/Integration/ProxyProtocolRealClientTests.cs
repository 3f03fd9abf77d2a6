using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tests.Storage;

namespace StartTls.Smtp.Tests.Integration;

/// <summary>
/// Real senders of the PROXY protocol and XCLIENT: HAProxy (send-proxy and send-proxy-v2) in front of the server, with
/// the client connecting from 127.0.0.3, and swaks (--proxy-version 1 and 2, --xclient-*). A missing tool follows
/// <see cref="MissingTool"/>: skipped with the reason, failed in CI.
/// </summary>
public sealed class ProxyProtocolRealClientTests : IDisposable
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(20);
    private static readonly IPAddress ClientAddress = IPAddress.Parse("127.0.0.3");

    private readonly TempDirectory _temp = new();
    private readonly SessionRecorder _recorder = new();

    public void Dispose() => _temp.Dispose();

    /// <summary>HAProxy's path: on PATH, or Debian's /usr/sbin when PATH lacks it; otherwise the missing-tool policy.</summary>
    private static string HaproxyPath()
    {
        if (MissingTool.Find("haproxy") is { } onPath)
        {
            return onPath;
        }

        return File.Exists("/usr/sbin/haproxy") ? "/usr/sbin/haproxy" : MissingTool.Require("haproxy");
    }

    private static int FreePort()
    {
        using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        probe.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)probe.LocalEndPoint!).Port;
    }

    [SkippableTheory(Timeout = 60_000)]
    [InlineData("send-proxy")]
    [InlineData("send-proxy-v2")]
    public async Task Behind_haproxy_the_session_sees_the_real_client(string sendProxy)
    {
        var haproxy = HaproxyPath();
        await using var server = await TestServer.StartAsync(o => o.ProxyProtocol.TrustedSources.Add("127.0.0.1"),
            store: new MaildirMessageStore(new MaildirStoreOptions { Path = _temp.Maildir }), sessionHandler: _recorder);

        // HAProxy's own configuration in the test's directory: TCP mode, one frontend, our server as the backend.
        var frontendPort = FreePort();
        var config = Path.Combine(_temp.Path, "haproxy.cfg");
        await File.WriteAllTextAsync(config, string.Create(CultureInfo.InvariantCulture, $"""
            global
                maxconn 64
            defaults
                mode tcp
                timeout connect 5s
                timeout client 30s
                timeout server 30s
            frontend smtp
                bind 127.0.0.1:{frontendPort}
                default_backend mx
            backend mx
                server mx 127.0.0.1:{server.Port} {sendProxy}

            """));

        // -W -db: master and worker in the foreground; the master says "Loading success." once the worker is up.
        using var process = CliTool.Start(haproxy, ["-W", "-db", "-f", config], start => start.WorkingDirectory = _temp.Path);
        (await process.WaitForOutputAsync("Loading success.", ProcessTimeout)).Should().BeTrue(process.Output);

        await using var client = await RawSmtpClient.ConnectFromAsync(new IPEndPoint(IPAddress.Loopback, frontendPort), ClientAddress);
        var clientPort = ((IPEndPoint)client.Socket.LocalEndPoint!).Port;
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
        (await client.EhloAsync()).Should().StartWith("250-mx.test");
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        (await client.CommandAsync("DATA")).Should().StartWith("354");
        (await client.CommandAsync("Subject: via haproxy\r\n\r\nhello\r\n.")).Should().StartWith("250");
        (await client.CommandAsync("QUIT")).Should().StartWith("221");

        var session = await _recorder.FirstClosed.WaitAsync(ProcessTimeout);
        session.RemoteEndPoint.Should().Be(new IPEndPoint(ClientAddress, clientPort), process.Output);
        session.LocalEndPoint.Should().Be(new IPEndPoint(IPAddress.Loopback, frontendPort));
        ((IPEndPoint)session.ProxyEndPoint!).Address.Should().Be(IPAddress.Loopback);
        var stored = File.ReadAllText(_temp.Files("new").Should().ContainSingle().Subject);
        stored.Should().Contain("Received: from client.test ([127.0.0.3])");
    }

    private static async Task<CliResult> RunSwaksAsync(TestServer server, params string[] extra)
    {
        string[] common =
        [
            "--server", "127.0.0.1", "--port", server.Port.ToString(CultureInfo.InvariantCulture),
            "--from", "a@c.test", "--to", "b@s.test", "--helo", "client.test", "--timeout", "10",
        ];
        return await CliTool.RunAsync("swaks", [.. common, .. extra], timeout: ProcessTimeout);
    }

    [SkippableTheory(Timeout = 30_000)]
    [InlineData("1", "TCP4")]
    [InlineData("2", "AF_INET")]
    public async Task Swaks_proxy_headers_name_the_client(string version, string family)
    {
        await using var server = await TestServer.StartAsync(o => o.ProxyProtocol.TrustedSources.Add("127.0.0.0/8"), sessionHandler: _recorder);
        var result = await RunSwaksAsync(server, "--proxy-version", version, "--proxy-family", family,
            "--proxy-source", "192.0.2.77", "--proxy-source-port", "4444", "--proxy-dest", "198.51.100.25", "--proxy-dest-port", "25");
        result.ExitCode.Should().Be(0, result.ToString());

        var stored = server.Messages.Messages.Should().ContainSingle(result.ToString()).Subject;
        stored.RemoteEndPoint.Should().Be(new IPEndPoint(IPAddress.Parse("192.0.2.77"), 4444));
        var session = await _recorder.FirstClosed.WaitAsync(ProcessTimeout);
        session.LocalEndPoint.Should().Be(new IPEndPoint(IPAddress.Parse("198.51.100.25"), 25));
    }

    [SkippableFact(Timeout = 30_000)]
    public async Task Swaks_proxy_header_from_an_untrusted_address_is_refused()
    {
        await using var server = await TestServer.StartAsync(o => o.ProxyProtocol.TrustedSources.Add("10.0.0.0/8"), sessionHandler: _recorder);
        var result = await RunSwaksAsync(server, "--proxy", "TCP4 192.0.2.77 198.51.100.25 4444 25");
        result.ExitCode.Should().NotBe(0, result.ToString());
        result.All.Should().Contain("554 5.7.0 PROXY protocol header not accepted");
        server.Messages.Messages.Should().BeEmpty();
    }

    [SkippableFact(Timeout = 30_000)]
    public async Task Swaks_xclient_hands_over_the_client()
    {
        await using var server = await TestServer.StartAsync(o => o.Xclient.TrustedSources.Add("127.0.0.1"), sessionHandler: _recorder);
        var result = await RunSwaksAsync(server, "--xclient-addr", "192.0.2.88", "--xclient-name", "relay.example",
            "--xclient-port", "2525", "--xclient-login", "carol", "--xclient-helo", "original.example");
        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardOutput.Should().Contain(" -> XCLIENT ").And.Contain("NAME=relay.example").And.Contain("LOGIN=carol");

        var stored = server.Messages.Messages.Should().ContainSingle(result.ToString()).Subject;
        stored.RemoteEndPoint.Should().Be(new IPEndPoint(IPAddress.Parse("192.0.2.88"), 2525));
        var session = await _recorder.FirstClosed.WaitAsync(ProcessTimeout);
        session.ClientHostName.Should().Be("relay.example");
        session.AuthenticatedIdentity.Should().Be("carol");
        ((IPEndPoint)session.ProxyEndPoint!).Address.Should().Be(IPAddress.Loopback);
    }

    [SkippableFact(Timeout = 30_000)]
    public async Task Swaks_xclient_from_an_untrusted_address_is_refused()
    {
        await using var server = await TestServer.StartAsync(o => o.Xclient.TrustedSources.Add("10.0.0.0/8"));
        var result = await RunSwaksAsync(server, "--xclient-addr", "192.0.2.88");
        result.ExitCode.Should().NotBe(0, result.ToString());
        result.All.Should().Contain("XCLIENT");
        server.Messages.Messages.Should().BeEmpty();
    }
}
