using System.Collections.Concurrent;
using System.Net;
using StartTls.Smtp.Tests.Authentication;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tests.Transport;
using static StartTls.Smtp.Tests.Infrastructure.RawSmtpClientExtensions;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// One server, endpoints with their own policy: an MX (STARTTLS, no AUTH, its own SIZE), a submission endpoint
/// (RequireTls, RequireAuthentication, PLAIN only) and a plaintext endpoint without STARTTLS that trusts a PROXY source.
/// </summary>
public sealed class EndpointPolicyTranscriptTests
{
    private const int Mx = 0;
    private const int Submission = 1;
    private const int Internal = 2;

    private readonly ConcurrentQueue<(string Endpoint, EndPoint? Remote)> _sessions = new();

    private Task<TestServer> StartAsync() => TestServer.StartAsync(AuthTestKit.TlsServer(AuthTestKit.NewUsers(), auth => auth.RequireAuthentication = false) + (o =>
    {
        o.MaxMessageSize = 1000;
        o.Endpoints[0].Name = "mx";
        o.Endpoints[0].OfferAuthentication = false;
        o.Endpoints[0].MaxMessageSize = 100;
        var submission = new SmtpEndpointOptions { Address = "127.0.0.1:0", Name = "submission", RequireTls = true, RequireAuthentication = true, MaxMessageSize = 200 };
        submission.AuthenticationMechanisms.Add("plain");
        o.Endpoints.Add(submission);
        var internalEndpoint = new SmtpEndpointOptions { Address = "127.0.0.1:0", Name = "internal", OfferStartTls = false };
        internalEndpoint.ProxyProtocolTrustedSources.Add("127.0.0.1/32");
        o.Endpoints.Add(internalEndpoint);
    }), sessionHandler: new SessionRecorder(session =>
    {
        _sessions.Enqueue((session.Endpoint.Name, session.RemoteEndPoint));
        return null;
    }));

    private static async Task<RawSmtpClient> ConnectAsync(TestServer server, int endpoint)
    {
        var client = await RawSmtpClient.ConnectAsync(server.Server.ListeningEndPoints[endpoint]);
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
        return client;
    }

    /// <summary>Connects to the internal endpoint, where 127.0.0.1 is a trusted proxy: the PROXY header comes first.</summary>
    private static async Task<RawSmtpClient> ConnectProxiedAsync(TestServer server)
    {
        var client = await RawSmtpClient.ConnectAsync(server.Server.ListeningEndPoints[Internal]);
        await client.SendAsync(ProxyV1());
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
        return client;
    }

    private static async Task<TlsSmtpClient> StartTlsAsync(RawSmtpClient raw)
    {
        (await raw.EhloAsync()).Should().Contain("250-STARTTLS");
        (await raw.CommandAsync("STARTTLS")).Should().StartWith("220");
        return await TlsSmtpClient.HandshakeAsync(raw.Socket, "mx.test");
    }

    [Fact]
    public async Task The_mx_endpoint_offers_starttls_and_its_own_size_but_no_auth_and_takes_mail_without_it()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectAsync(server, Mx);
        var ehlo = await client.EhloAsync();
        ehlo.Should().Contain("250-STARTTLS").And.Contain("250-SIZE 100\r\n").And.NotContain("AUTH");
        Code(await client.CommandAsync("AUTH PLAIN " + AuthTestKit.Plain(AuthTestKit.User, AuthTestKit.Password))).Should().Be("502 5.5.1");
        await client.StartDataAsync();
        (await client.CommandAsync("Subject: mx\r\n\r\nhi\r\n.")).Should().StartWith("250 2.0.0");
        server.Messages.Count.Should().Be(1);

        var tls = await StartTlsAsync(await ConnectAsync(server, Mx));
        await using (tls)
        {
            (await tls.EhloAsync()).Should().Contain("250-SIZE 100\r\n").And.NotContain("AUTH").And.NotContain("STARTTLS");
        }
    }

    [Fact]
    public async Task The_submission_endpoint_refuses_auth_and_mail_before_starttls_and_mail_before_auth()
    {
        await using var server = await StartAsync();
        await using var raw = await ConnectAsync(server, Submission);
        (await raw.EhloAsync()).Should().Contain("250-STARTTLS").And.NotContain("AUTH");
        (await raw.CommandAsync("AUTH PLAIN " + AuthTestKit.Plain(AuthTestKit.User, AuthTestKit.Password))).Should().Be("530 5.7.0 Must issue a STARTTLS command first");
        (await raw.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("530 5.7.0 Must issue a STARTTLS command first");
        (await raw.CommandAsync("STARTTLS")).Should().StartWith("220");
        await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket, "mx.test");
        var ehlo = await tls.EhloAsync();
        AuthTestKit.AuthLine(ehlo).Should().Equal("PLAIN");
        ehlo.Should().Contain("250-SIZE 200\r\n");
        (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("530 5.7.0 Authentication required");
        Code(await tls.CommandAsync("AUTH LOGIN")).Should().Be("504 5.5.4", "LOGIN is configured, but not offered here");
        (await tls.CommandAsync("AUTH PLAIN " + AuthTestKit.Plain(AuthTestKit.User, AuthTestKit.Password))).Should().StartWith("235 2.7.0");
        (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
        (await tls.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        (await tls.CommandAsync("DATA")).Should().StartWith("354");
        (await tls.CommandAsync("Subject: sub\r\n\r\nhi\r\n.")).Should().StartWith("250 2.0.0");
        server.Messages.Count.Should().Be(1);
    }

    [Fact]
    public async Task Each_endpoint_enforces_its_own_size_for_data()
    {
        await using var server = await StartAsync();
        await using (var mx = await ConnectAsync(server, Mx))
        {
            await mx.StartDataAsync();
            (await mx.CommandAsync(new string('a', 150) + "\r\n.")).Should().StartWith("552 5.3.4", "150 octets are over the MX's 100");
        }

        await using (var other = await ConnectProxiedAsync(server))
        {
            (await other.EhloAsync()).Should().Contain("250-SIZE 1000\r\n", "this endpoint inherits the server's limit");
            (await other.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
            (await other.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
            (await other.CommandAsync("DATA")).Should().StartWith("354");
            (await other.CommandAsync(new string('a', 150) + "\r\n.")).Should().StartWith("250 2.0.0");
        }

        server.Messages.Count.Should().Be(1);
    }

    [Fact]
    public async Task Each_endpoint_enforces_its_own_size_for_mail_size_and_bdat()
    {
        await using var server = await StartAsync();
        await using var mx = await ConnectAsync(server, Mx);
        await mx.EhloAsync();
        Code(await mx.CommandAsync("MAIL FROM:<a@c.test> SIZE=101")).Should().Be("552 5.3.4");
        (await mx.CommandAsync("MAIL FROM:<a@c.test> SIZE=100")).Should().StartWith("250");
        (await mx.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        await mx.SendAsync("BDAT 60\r\n" + new string('a', 60));
        Code(await mx.ReadReplyAsync()).Should().Be("250 2.0.0");
        await mx.SendAsync("BDAT 60 LAST\r\n" + new string('b', 60));
        Code(await mx.ReadReplyAsync()).Should().Be("552 5.3.4");
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task Offer_start_tls_false_hides_starttls_and_refuses_it_although_a_certificate_is_configured()
    {
        await using var server = await StartAsync();
        await using var client = await ConnectProxiedAsync(server);
        (await client.CommandAsync("EHLO direct.test")).Should().NotContain("STARTTLS");
        Code(await client.CommandAsync("STARTTLS")).Should().StartWith("5");
    }

    [Fact]
    public async Task An_endpoints_own_proxy_sources_are_trusted_there_only()
    {
        await using var server = await StartAsync();
        await using (var proxied = await ConnectProxiedAsync(server))
        {
            (await proxied.CommandAsync("QUIT")).Should().StartWith("221");
        }

        await using (var mx = await ConnectAsync(server, Mx))
        {
            (await mx.CommandAsync("QUIT")).Should().StartWith("221");
        }

        _sessions.Should().Contain(("internal", new IPEndPoint(IPAddress.Parse("192.0.2.10"), 51234)));
        _sessions.Should().ContainSingle(s => s.Endpoint == "mx").Which.Remote.Should().BeOfType<IPEndPoint>()
            .Which.Address.Should().Be(IPAddress.Loopback, "127.0.0.1 is trusted only on the internal endpoint");
    }

    [Fact]
    public async Task The_session_knows_its_endpoint()
    {
        await using var server = await StartAsync();
        await using (var client = await ConnectAsync(server, Submission))
        {
            (await client.CommandAsync("QUIT")).Should().StartWith("221");
        }

        _sessions.Should().ContainSingle().Which.Endpoint.Should().Be("submission");
    }

    private static byte[] ProxyV1() => ProxyHeaderBytes.V1(new IPEndPoint(IPAddress.Parse("192.0.2.10"), 51234), new IPEndPoint(IPAddress.Parse("198.51.100.1"), 25));
}
