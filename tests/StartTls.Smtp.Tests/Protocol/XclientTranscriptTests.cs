using System.Net;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Authentication;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// Postfix's XCLIENT (XCLIENT_README): offered and accepted only for trusted clients, refused inside a transaction,
/// its attributes xtext-decoded and checked, and a success answered with a new 220 greeting after which the client
/// must greet again. Replies are Postfix's.
/// </summary>
public sealed class XclientTranscriptTests
{
    private static readonly IPEndPoint Trusted = new(IPAddress.Parse("10.1.1.1"), 40000);
    private static readonly IPEndPoint Untrusted = new(IPAddress.Parse("203.0.113.7"), 40000);

    private readonly SessionRecorder _recorder = new();

    private Task<TestServer> StartAsync(Action<SmtpServerOptions>? configure = null) => TestServer.StartAsync(o =>
    {
        o.Xclient.TrustedSources.Add("10.1.1.0/24");
        configure?.Invoke(o);
    }, sessionHandler: _recorder);

    private static async Task<PipeConnection> ConnectAsync(TestServer server, IPEndPoint remote)
    {
        var client = PipeConnection.Start(server.Server, remote: remote);
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
        return client;
    }

    [Fact]
    public async Task Xclient_is_advertised_only_to_trusted_clients()
    {
        await using var server = await StartAsync();
        await using var trusted = await ConnectAsync(server, Trusted);
        (await trusted.EhloAsync()).Should().Contain("250-XCLIENT NAME ADDR PORT PROTO HELO LOGIN\r\n");
        await using var untrusted = await ConnectAsync(server, Untrusted);
        (await untrusted.EhloAsync()).Should().NotContain("XCLIENT");
    }

    [Fact]
    public async Task An_untrusted_client_gets_550_5_7_0()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server, Untrusted);
        await client.EhloAsync();
        (await client.CommandAsync("XCLIENT ADDR=192.0.2.1")).Should().Be("550 5.7.0 Error: insufficient authorization");
        (await client.CommandAsync("QUIT")).Should().StartWith("221");
        await client.Session;
        (await _recorder.FirstClosed).RemoteEndPoint.Should().Be(Untrusted);
    }

    [Fact]
    public async Task Without_trusted_sources_nobody_may_send_xclient()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await ConnectAsync(server, Trusted);
        (await client.EhloAsync()).Should().NotContain("XCLIENT");
        (await client.CommandAsync("XCLIENT ADDR=192.0.2.1")).Should().StartWith("550 5.7.0");
    }

    [Fact]
    public async Task A_successful_xclient_updates_the_session_and_starts_it_again()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server, Trusted);
        (await client.EhloAsync("proxy.test")).Should().StartWith("250-mx.test");
        (await client.CommandAsync("XCLIENT NAME=mail.client.example ADDR=192.0.2.44 PORT=2525 PROTO=ESMTP HELO=client.example LOGIN=user+40client.example"))
            .Should().Be("220 mx.test ESMTP ready");
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("503 5.5.1 Send EHLO or HELO first", "the session started again");
        await client.StartDataAsync(); // EHLO client.test, MAIL, RCPT, DATA
        (await client.CommandAsync("Subject: hi\r\n\r\nhello\r\n.")).Should().StartWith("250");
        (await client.CommandAsync("QUIT")).Should().StartWith("221");
        await client.Session;

        var session = await _recorder.FirstClosed;
        session.RemoteEndPoint.Should().Be(new IPEndPoint(IPAddress.Parse("192.0.2.44"), 2525));
        session.ProxyEndPoint.Should().Be(Trusted);
        session.ClientHostName.Should().Be("mail.client.example");
        session.HeloName.Should().Be("client.test", "the EHLO after XCLIENT names the client anew");
        session.AuthenticatedIdentity.Should().Be("user@client.example");
        session.AuthenticationMechanism.Should().Be("XCLIENT");
        session.ProtocolName.Should().Be("ESMTPA");
        var stored = server.Messages.Messages.Should().ContainSingle().Subject;
        stored.RemoteEndPoint.Should().Be(session.RemoteEndPoint);
        SmtpTraceHeaders.Format(session, stored.Envelope, "mx.test", DateTimeOffset.UnixEpoch)
            .Should().Contain("Received: from client.test (mail.client.example [192.0.2.44])");
    }

    [Fact]
    public async Task Attributes_not_given_are_kept_and_unavailable_ones_are_cleared()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server, Trusted);
        (await client.CommandAsync("XCLIENT ADDR=IPV6:2001:db8::44 NAME=host.example LOGIN=bob")).Should().StartWith("220 ");
        (await client.CommandAsync("XCLIENT PORT=7 NAME=[UNAVAILABLE] LOGIN=[TEMPUNAVAIL] HELO=[UNAVAILABLE]")).Should().StartWith("220 ");
        (await client.CommandAsync("QUIT")).Should().StartWith("221");
        await client.Session;
        var session = await _recorder.FirstClosed;
        session.RemoteEndPoint.Should().Be(new IPEndPoint(IPAddress.Parse("2001:db8::44"), 7), "the address kept, the port replaced");
        session.ProxyEndPoint.Should().Be(Trusted, "the proxy is the connection's, not an earlier XCLIENT's");
        session.ClientHostName.Should().BeNull();
        session.IsAuthenticated.Should().BeFalse();
    }

    [Fact]
    public async Task An_unavailable_address_leaves_no_remote_address()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server, Trusted);
        (await client.CommandAsync("XCLIENT ADDR=[UNAVAILABLE]")).Should().StartWith("220 ");
        (await client.CommandAsync("XCLIENT PROTO=SMTP")).Should().StartWith("220 ", "XCLIENT stays allowed: trust is the connection's");
        (await client.CommandAsync("QUIT")).Should().StartWith("221");
        await client.Session;
        (await _recorder.FirstClosed).RemoteEndPoint.Should().BeNull();
    }

    [Fact]
    public async Task Xclient_inside_a_transaction_gets_503_5_5_1()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server, Trusted);
        await client.EhloAsync();
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
        (await client.CommandAsync("XCLIENT ADDR=192.0.2.1")).Should().Be("503 5.5.1 Error: MAIL transaction in progress");
        (await client.CommandAsync("RSET")).Should().StartWith("250");
        (await client.CommandAsync("XCLIENT ADDR=192.0.2.1")).Should().StartWith("220 ");
    }

    [Theory]
    [InlineData("XCLIENT", "501 5.5.4 Syntax: XCLIENT attribute=value...")]
    [InlineData("XCLIENT ", "501 5.5.4 Syntax: XCLIENT attribute=value...")]
    [InlineData("XCLIENT ADDR", "501 5.5.4 Error: attribute=value expected")]
    [InlineData("XCLIENT =192.0.2.1", "501 5.5.4 Error: attribute=value expected")]
    [InlineData("XCLIENT SOURCE=x", "501 5.5.4 Bad XCLIENT attribute name: SOURCE")]
    [InlineData("XCLIENT ADDR=192.0.2.1 DESTADDR=192.0.2.2", "501 5.5.4 Bad XCLIENT attribute name: DESTADDR")]
    [InlineData("XCLIENT ADDR=192.0.2.256", "501 5.5.4 Bad ADDR syntax: 192.0.2.256")]
    [InlineData("XCLIENT ADDR=2001:db8::1", "501 5.5.4 Bad ADDR syntax: 2001:db8::1")]
    [InlineData("XCLIENT ADDR=IPV6:192.0.2.1", "501 5.5.4 Bad ADDR syntax: IPV6:192.0.2.1")]
    [InlineData("XCLIENT PORT=65536", "501 5.5.4 Bad PORT syntax: 65536")]
    [InlineData("XCLIENT PORT=-1", "501 5.5.4 Bad PORT syntax: -1")]
    [InlineData("XCLIENT PROTO=LMTP", "501 5.5.4 Bad PROTO syntax: LMTP")]
    [InlineData("XCLIENT NAME=bad_host!", "501 5.5.4 Bad NAME syntax: bad_host!")]
    [InlineData("XCLIENT NAME=a..b", "501 5.5.4 Bad NAME syntax: a..b")]
    [InlineData("XCLIENT LOGIN=a+2", "501 5.5.4 Bad LOGIN syntax: a+2")]
    [InlineData("XCLIENT LOGIN=a+2g", "501 5.5.4 Bad LOGIN syntax: a+2g")]
    [InlineData("XCLIENT LOGIN=a+0Ab", "501 5.5.4 Bad LOGIN syntax: a?b")]
    [InlineData("XCLIENT HELO=a+20b", "501 5.5.4 Bad HELO syntax: a?b")]
    public async Task Bad_xclient_commands_get_postfix_replies_and_change_nothing(string command, string reply)
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server, Trusted);
        (await client.EhloAsync()).Should().StartWith("250-");
        (await client.CommandAsync(command)).Should().Be(reply);
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250", "the session was not restarted");
        (await client.CommandAsync("QUIT")).Should().StartWith("221");
        await client.Session;
        (await _recorder.FirstClosed).RemoteEndPoint.Should().Be(Trusted);
    }

    [Fact]
    public async Task A_value_over_255_octets_is_too_long()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server, Trusted);
        (await client.CommandAsync("XCLIENT HELO=" + new string('h', 256))).Should().Be("501 5.5.4 Error: attribute value too long");
        (await client.CommandAsync("XCLIENT HELO=" + new string('h', 255))).Should().StartWith("220 ");
    }

    [Fact]
    public async Task Xtext_and_names_are_decoded_case_insensitively()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server, Trusted);
        (await client.CommandAsync("xclient login=J+C3+B6rg addr=192.0.2.9 proto=smtp")).Should().StartWith("220 ");
        (await client.CommandAsync("QUIT")).Should().StartWith("221");
        await client.Session;
        var session = await _recorder.FirstClosed;
        session.AuthenticatedIdentity.Should().Be("Jörg");
        session.RemoteEndPoint.Should().Be(new IPEndPoint(IPAddress.Parse("192.0.2.9"), Trusted.Port), "the port is kept");
        session.IsExtended.Should().BeFalse();
    }

    [Fact]
    public async Task Xclient_login_replaces_an_earlier_auth_and_satisfies_required_authentication()
    {
        var users = AuthTestKit.NewUsers();
        await using var server = await StartAsync(o =>
        {
            AuthTestKit.InsecureServer(users)(o);
            o.Authentication.RequireAuthentication = true;
        });
        await using var client = await ConnectAsync(server, Trusted);
        await client.EhloAsync();
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("530");
        (await client.CommandAsync("AUTH PLAIN " + AuthTestKit.Plain(AuthTestKit.User, AuthTestKit.Password))).Should().StartWith("235");
        (await client.CommandAsync("XCLIENT LOGIN=carol")).Should().StartWith("220 ");
        await client.EhloAsync();
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
        (await client.CommandAsync("AUTH PLAIN " + AuthTestKit.Plain(AuthTestKit.User, AuthTestKit.Password))).Should().StartWith("503");
        (await client.CommandAsync("QUIT")).Should().StartWith("221");
        await client.Session;
        (await _recorder.FirstClosed).AuthenticatedIdentity.Should().Be("carol");
    }

    [Fact]
    public async Task Xclient_trust_is_judged_on_the_address_from_a_proxy_header()
    {
        await using var server = await StartAsync(o => o.ProxyProtocol.TrustedSources.Add("10.9.9.9"));
        await using var client = PipeConnection.Start(server.Server, remote: new IPEndPoint(IPAddress.Parse("10.9.9.9"), 5000));
        await client.SendAsync(Transport.ProxyHeaderBytes.V1(Trusted, new IPEndPoint(IPAddress.Loopback, 25)));
        (await client.ReadReplyAsync()).Should().StartWith("220 ");
        (await client.EhloAsync()).Should().Contain("XCLIENT");
        (await client.CommandAsync("XCLIENT ADDR=192.0.2.5")).Should().StartWith("220 ");
    }
}
