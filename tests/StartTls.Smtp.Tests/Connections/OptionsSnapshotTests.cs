using StartTls.Smtp.Authentication;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Connections;

/// <summary>
/// The server copies its options when it is built: changing the options object, or any collection in it, afterwards
/// changes nothing in the running server.
/// </summary>
public sealed class OptionsSnapshotTests
{
    private static SmtpServerOptions AuthOptions()
    {
        var options = new SmtpServerOptions { ServerName = "mx.test" };
        options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" });
        var users = new InMemoryUserStore();
        users.AddUser("alice", "secret");
        options.Authentication.PasswordAuthenticator = users;
        return options;
    }

    [Fact]
    public async Task Allowing_insecure_auth_after_construction_does_not_offer_auth_in_plaintext()
    {
        var options = AuthOptions();
        await using var server = new SmtpServer(options, new InMemoryMessageStore());
        options.Authentication.AllowInsecureAuthentication = true;
        options.Authentication.RequireAuthentication = true;
        options.MaxRecipients = 1;

        await using var client = PipeConnection.Start(server);
        await client.ReadReplyAsync();
        var ehlo = await client.CommandAsync("EHLO c.test");

        ehlo.Should().NotContain("AUTH");
        (await client.CommandAsync("AUTH PLAIN AGFsaWNlAHNlY3JldA==")).Should().StartWith("530 5.7.0");
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250", "RequireAuthentication was set after construction");
        (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<c@s.test>")).Should().StartWith("250", "MaxRecipients was changed after construction");
    }

    [Fact]
    public async Task Changing_the_mechanism_list_after_construction_does_not_change_what_is_offered()
    {
        var options = AuthOptions();
        options.Authentication.AllowInsecureAuthentication = true;
        await using var server = new SmtpServer(options, new InMemoryMessageStore());
        options.Authentication.Mechanisms.Clear();
        options.Authentication.Mechanisms.Add(SaslMechanisms.Plain);

        await using var client = PipeConnection.Start(server);
        await client.ReadReplyAsync();
        var ehlo = await client.CommandAsync("EHLO c.test");

        ehlo.Should().Contain("AUTH PLAIN LOGIN");
    }

    [Fact]
    public async Task Changing_the_endpoints_after_construction_does_not_change_where_the_server_listens()
    {
        var options = AuthOptions();
        await using var server = new SmtpServer(options, new InMemoryMessageStore());
        options.Endpoints[0].Address = "127.0.0.1:1";
        options.Endpoints[0].ImplicitTls = true;
        options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:2" });

        await server.StartAsync();

        server.ListeningEndPoints.Should().ContainSingle().Which.Port.Should().NotBe(1).And.NotBe(2);
        await using var client = await RawSmtpClient.ConnectAsync(server.ListeningEndPoints[0]);
        (await client.ReadReplyAsync()).Should().StartWith("220 ", "the endpoint stays plaintext");
    }

    [Fact]
    public async Task Adding_a_certificate_after_construction_does_not_offer_starttls()
    {
        var options = new SmtpServerOptions { ServerName = "mx.test" };
        await using var server = new SmtpServer(options, new InMemoryMessageStore());
        TlsTestKit.WithCertificate()(options);
        options.Tls.SniCertificates.Add(new StartTls.Smtp.Tls.SniCertificateOptions { ServerName = "late.test", CertificatePath = "/nonexistent.pem" });

        await using var client = PipeConnection.Start(server);
        await client.ReadReplyAsync();

        (await client.CommandAsync("EHLO c.test")).Should().NotContain("STARTTLS");
        (await client.CommandAsync("STARTTLS")).Should().StartWith("502 5.5.1");
    }
}
