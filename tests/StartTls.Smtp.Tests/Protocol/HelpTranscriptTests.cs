using StartTls.Smtp.Authentication;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// HELP (RFC 5321 §4.1.1.8) names the commands the session accepts at that moment: the same extensions its EHLO (or
/// LHLO) reply offers, so STARTTLS before TLS only, AUTH when offered, BDAT with CHUNKING, XCLIENT to trusted clients.
/// </summary>
public sealed class HelpTranscriptTests
{
    private const string Base = "MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY HELP";

    [Fact]
    public async Task A_plain_server_lists_the_smtp_commands_with_bdat()
    {
        await using var server = await TestServer.StartAsync();
        await using var client = await server.ConnectAsync();

        (await client.CommandAsync("HELP")).Should().Be($"214-2.0.0 Commands: EHLO HELO {Base}\r\n214 2.0.0 See RFC 5321");
        (await client.CommandAsync("HELP MAIL")).Should().StartWith("214-2.0.0 Commands:");
    }

    [Fact]
    public async Task Without_chunking_bdat_is_not_listed()
    {
        await using var server = await TestServer.StartAsync(o => o.EnableChunking = false);
        await using var client = await server.ConnectAsync();

        (await client.EhloAsync()).Should().NotContain("CHUNKING");
        (await client.CommandAsync("HELP")).Should().StartWith("214-2.0.0 Commands: EHLO HELO MAIL RCPT DATA RSET NOOP QUIT VRFY HELP\r\n");
    }

    [Fact]
    public async Task Starttls_is_listed_before_tls_and_auth_after_it_as_in_the_ehlo_replies()
    {
        var users = new InMemoryUserStore().AddUser("alice", "secret");
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(o => o.Authentication.PasswordAuthenticator = users));
        await using var raw = await server.ConnectAsync();

        (await raw.EhloAsync()).Should().Contain("STARTTLS").And.NotContain("AUTH");
        (await raw.CommandAsync("HELP")).Should().StartWith($"214-2.0.0 Commands: EHLO HELO STARTTLS {Base}\r\n");

        (await raw.CommandAsync("STARTTLS")).Should().StartWith("220");
        await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket, "mx.test");
        (await tls.EhloAsync()).Should().Contain("AUTH").And.NotContain("STARTTLS");
        (await tls.CommandAsync("HELP")).Should().StartWith($"214-2.0.0 Commands: EHLO HELO AUTH {Base}\r\n");
    }

    [Fact]
    public async Task A_trusted_xclient_source_sees_xclient_listed()
    {
        await using var server = await TestServer.StartAsync(o => o.Xclient.TrustedSources.Add("127.0.0.1"));
        await using var client = await server.ConnectAsync();

        (await client.EhloAsync()).Should().Contain("XCLIENT");
        (await client.CommandAsync("HELP")).Should().StartWith($"214-2.0.0 Commands: EHLO HELO {Base} XCLIENT\r\n");
    }

    [Fact]
    public async Task An_lmtp_endpoint_lists_lhlo_instead_of_ehlo_and_helo()
    {
        await using var server = await TestServer.StartAsync();
        await using var connection = PipeConnection.Start(server.Server, new SmtpEndpointOptions { Name = "lmtp", Protocol = SmtpEndpointProtocol.Lmtp });
        (await connection.ReadReplyAsync()).Should().StartWith("220 ");

        (await connection.CommandAsync("HELP")).Should().Be($"214-2.0.0 Commands: LHLO {Base}\r\n214 2.0.0 See RFC 2033 and RFC 5321");
    }
}
