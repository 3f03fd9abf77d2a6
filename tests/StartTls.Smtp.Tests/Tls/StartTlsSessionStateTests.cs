using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// What the session knows before and after TLS (docs/threat-model.md T10–T12, T14–T17, T19), and the facts the store sees
/// (ProtocolName ESMTPS, the SNI name, the Received header). T13 and T18 need AUTH and are not here.
/// </summary>
public sealed class StartTlsSessionStateTests
{
    [Fact]
    public async Task T10_mail_after_the_handshake_without_a_new_ehlo_gets_503()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate());
        var (raw, tls) = await server.ConnectWithStartTlsAsync();
        await using (raw)
        await using (tls)
        {
            (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("503 5.5.1");
            (await tls.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("503 5.5.1");
            (await tls.EhloAsync("post.test")).Should().StartWith("250-mx.test");
            (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250 2.1.0");
        }
    }

    [Fact]
    public async Task T11_starttls_inside_a_transaction_gets_503_and_the_envelope_does_not_survive_tls()
    {
        var store = new SessionRecorder();
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(), store);
        await using var raw = await server.ConnectAsync();
        await raw.EhloAsync("pre.test");
        (await raw.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250 2.1.0");
        (await raw.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250 2.1.5");
        (await raw.CommandAsync("STARTTLS")).Should().StartWith("503 5.5.1");
        (await raw.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK", "still in plaintext, session usable");

        // With the transaction reset, STARTTLS works; inside TLS nothing of the old envelope remains.
        (await raw.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("503 5.5.1", "nested MAIL: the transaction is still open");
        (await raw.CommandAsync("RSET")).Should().StartWith("250");
        (await raw.CommandAsync("MAIL FROM:<evil@c.test>")).Should().StartWith("250");
        (await raw.CommandAsync("RSET")).Should().StartWith("250");
        (await raw.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket);
        (await tls.EhloAsync("post.test")).Should().StartWith("250-");
        (await tls.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("503 5.5.1");
        (await tls.CommandAsync("DATA")).Should().StartWith("503 5.5.1");
        store.Inner.Count.Should().Be(0);
    }

    [Fact]
    public async Task T12_the_ehlo_reply_inside_tls_drops_starttls_and_the_store_sees_the_post_tls_facts()
    {
        var store = new SessionRecorder();
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(), store);
        await using var raw = await server.ConnectAsync();
        var before = await raw.EhloAsync("pre.test");
        before.Should().Contain("250-STARTTLS");
        (await raw.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket, "mx.test");
        var after = await tls.EhloAsync("post.test");
        after.Should().StartWith("250-mx.test").And.NotContain("STARTTLS");
        after.Should().Contain("250-REQUIRETLS\r\n", "RFC 8689: REQUIRETLS is offered inside TLS only").And.NotContain("REQUIRETLS\r\n250-STARTTLS");
        before.Should().NotContain("REQUIRETLS");
        after.Split("\r\n").Select(l => l[4..]).Where(l => !l.StartsWith("AUTH", StringComparison.Ordinal) && l != "REQUIRETLS").Should().Equal(
            before.Split("\r\n").Select(l => l[4..]).Where(l => l != "STARTTLS"), "only STARTTLS goes away (AUTH and REQUIRETLS may appear)");

        await DeliverAsync(tls);
        var facts = store.Snapshots.Should().ContainSingle().Subject;
        facts.HeloName.Should().Be("post.test");
        facts.ProtocolName.Should().Be("ESMTPS");
        facts.IsSecure.Should().BeTrue();
        facts.Tls!.ServerName.Should().Be("mx.test");
        facts.Tls.IsImplicit.Should().BeFalse();
        facts.Tls.Protocol.Should().BeOneOf(System.Security.Authentication.SslProtocols.Tls13, System.Security.Authentication.SslProtocols.Tls12);
        facts.Tls.CipherSuite.Should().Be(tls.Stream.NegotiatedCipherSuite);
        facts.Tls.ClientCertificate.Should().BeNull();
        store.Inner.Messages.Should().ContainSingle().Which.HeloName.Should().Be("post.test");
    }

    [Fact]
    public async Task T12_the_sni_name_reaches_the_session_as_sent_and_no_sni_gives_null()
    {
        var store = new SessionRecorder();
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(), store);
        foreach (var sni in new[] { "MX.test", "" })
        {
            await using var raw = await server.ConnectAsync();
            await raw.EhloAsync();
            (await raw.CommandAsync("STARTTLS")).Should().StartWith("220");
            await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket, sni, expectedName: "mx.test");
            await tls.EhloAsync();
            await DeliverAsync(tls);
        }

        store.Snapshots.Select(s => s.Tls!.ServerName).Should().Equal("MX.test", null);
    }

    [Fact]
    public async Task T12_maildir_received_header_says_with_esmtps_and_names_the_post_tls_helo()
    {
        var dir = Path.Combine(Path.GetTempPath(), "starttls-maildir-" + Guid.NewGuid().ToString("N"));
        try
        {
            var maildir = new MaildirMessageStore(new MaildirStoreOptions { Path = dir, AddTraceHeaders = true, ServerName = "mx.test", FsyncDirectory = false });
            await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(), maildir);
            var (raw, tls) = await server.ConnectWithStartTlsAsync(ehlo: "pre.test");
            await using (raw)
            await using (tls)
            {
                await tls.EhloAsync("post.test");
                await DeliverAsync(tls);
            }

            var file = Directory.GetFiles(Path.Combine(dir, "new")).Should().ContainSingle().Subject;
            var text = await File.ReadAllTextAsync(file);
            var received = text[text.IndexOf("Received:", StringComparison.Ordinal)..text.IndexOf("\r\nSubject:", StringComparison.Ordinal)];
            received.Should().Contain("from post.test").And.Contain("with ESMTPS").And.NotContain("pre.test");
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    [Fact]
    public async Task Plaintext_delivery_is_esmtp_with_no_tls_facts()
    {
        var store = new SessionRecorder();
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(), store);
        await using var raw = await server.ConnectAsync();
        await raw.EhloAsync();
        (await raw.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
        (await raw.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        (await raw.CommandAsync("DATA")).Should().StartWith("354");
        (await raw.CommandAsync("x\r\n.")).Should().StartWith("250 2.0.0");
        var facts = store.Snapshots.Should().ContainSingle().Subject;
        facts.ProtocolName.Should().Be("ESMTP");
        facts.Tls.Should().BeNull();
    }

    [Fact]
    public async Task T14_starttls_inside_data_is_content_and_the_session_stays_in_plaintext()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate());
        await using var raw = await server.ConnectAsync();
        await raw.EhloAsync();
        (await raw.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
        (await raw.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        (await raw.CommandAsync("DATA")).Should().StartWith("354");
        await raw.SendAsync("STARTTLS\r\n.\r\n");
        (await raw.ReadReplyAsync()).Should().StartWith("250 2.0.0");
        server.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Be("STARTTLS\r\n");

        // Still plaintext: NOOP answers in the clear, and a real STARTTLS still works afterwards.
        (await raw.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        (await raw.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket);
        (await tls.EhloAsync()).Should().StartWith("250-");
    }

    [Theory]
    [InlineData("STARTTLS foo")]
    [InlineData("STARTTLS  x")]
    [InlineData("starttls REQUIRETLS")]
    public async Task T15_starttls_with_arguments_gets_501_and_no_handshake(string command)
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate());
        await using var raw = await server.ConnectAsync();
        await raw.EhloAsync();
        (await raw.CommandAsync(command)).Should().StartWith("501 5.5.4");
        (await raw.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK", "no handshake started: the session goes on in plaintext");
    }

    [Fact]
    public async Task T16_starttls_inside_tls_gets_503_and_the_session_stays_usable()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate());
        var (raw, tls) = await server.ConnectWithStartTlsAsync();
        await using (raw)
        await using (tls)
        {
            (await tls.CommandAsync("STARTTLS")).Should().StartWith("503 5.5.1");
            (await tls.EhloAsync()).Should().StartWith("250-").And.NotContain("STARTTLS");
            (await tls.CommandAsync("STARTTLS")).Should().StartWith("503 5.5.1");
            (await tls.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
            await DeliverAsync(tls);
        }

        server.Messages.Count.Should().Be(1);
    }

    [Fact]
    public async Task T16_starttls_on_an_implicit_tls_endpoint_gets_503_and_the_session_stays_usable()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.Implicit());
        var (raw, tls) = await server.ConnectImplicitAsync();
        await using (raw)
        await using (tls)
        {
            (await tls.EhloAsync()).Should().StartWith("250-").And.NotContain("STARTTLS");
            (await tls.CommandAsync("STARTTLS")).Should().StartWith("503 5.5.1");
            await DeliverAsync(tls);
        }

        server.Messages.Count.Should().Be(1);
    }

    [Fact]
    public async Task Starttls_is_not_offered_and_gets_502_without_a_certificate()
    {
        await using var server = await TestServer.StartAsync();
        await using var raw = await server.ConnectAsync();
        (await raw.EhloAsync()).Should().NotContain("STARTTLS");
        (await raw.CommandAsync("STARTTLS")).Should().StartWith("502 5.5.1");
        (await raw.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
    }

    [Fact]
    public async Task T17_a_require_tls_endpoint_answers_530_before_tls_while_a_plain_mx_endpoint_on_the_same_server_delivers()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(o =>
        {
            o.Endpoints[0].RequireTls = true;
            o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" });
        }));
        var submission = server.Server.ListeningEndPoints[0];
        var mx = server.Server.ListeningEndPoints[1];

        await using (var raw = await RawSmtpClient.ConnectAsync(submission))
        {
            (await raw.ReadReplyAsync()).Should().StartWith("220 ");
            (await raw.EhloAsync()).Should().Contain("250-STARTTLS");
            (await raw.CommandAsync("HELO c.test")).Should().StartWith("250 ");
            (await raw.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
            (await raw.CommandAsync("RSET")).Should().Be("250 2.0.0 OK");
            foreach (var command in new[] { "MAIL FROM:<a@c.test>", "RCPT TO:<b@s.test>", "DATA", "VRFY x", "EXPN list", "HELP", "AUTH PLAIN AHVzZXIAcGFzcw==", "BDAT 0 LAST" })
            {
                (await raw.CommandAsync(command)).Should().Be("530 5.7.0 Must issue a STARTTLS command first", command);
            }

            (await raw.CommandAsync("QUIT")).Should().StartWith("221");
            (await raw.IsClosedAsync()).Should().BeTrue();
        }

        await using (var raw = await RawSmtpClient.ConnectAsync(submission))
        {
            (await raw.ReadReplyAsync()).Should().StartWith("220 ");
            await raw.EhloAsync();
            (await raw.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
            await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket);
            await tls.EhloAsync();
            (await tls.CommandAsync("VRFY x")).Should().StartWith("252");
            await DeliverAsync(tls);
        }

        await using (var raw = await RawSmtpClient.ConnectAsync(mx))
        {
            (await raw.ReadReplyAsync()).Should().StartWith("220 ");
            (await raw.EhloAsync()).Should().Contain("250-STARTTLS", "the MX still offers STARTTLS");
            (await raw.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250 2.1.0");
            (await raw.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250 2.1.5");
            (await raw.CommandAsync("DATA")).Should().StartWith("354");
            (await raw.CommandAsync("plaintext delivery\r\n.")).Should().StartWith("250 2.0.0");
        }

        server.Messages.Count.Should().Be(2);
    }

    [Fact]
    public async Task T19_requiretls_is_not_advertised_and_the_mail_parameter_gets_555_in_plaintext()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate());
        await using var raw = await server.ConnectAsync();
        (await raw.EhloAsync()).Should().NotContain("REQUIRETLS");
        (await raw.CommandAsync("MAIL FROM:<a@c.test> REQUIRETLS")).Should().StartWith("555 5.5.4");
        (await raw.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250 2.1.0", "the refused MAIL opened no transaction");
    }

    [Fact]
    public async Task Quit_inside_tls_gets_221_then_a_clean_close_notify()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate());
        var (raw, tls) = await server.ConnectWithStartTlsAsync();
        await using (raw)
        await using (tls)
        {
            await tls.EhloAsync();
            (await tls.CommandAsync("QUIT")).Should().Be("221 2.0.0 Bye");
            (await tls.EndsWithCloseNotifyAsync()).Should().BeTrue("the server ends TLS with close_notify, not a truncation");
        }
    }

    [Fact]
    public async Task Requiretls_is_refused_in_clear_and_accepted_and_exposed_inside_tls()
    {
        var store = new SessionRecorder();
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(), store);
        await using var raw = await server.ConnectAsync();
        await raw.EhloAsync("pre.test");
        (await raw.CommandAsync("MAIL FROM:<a@c.test> REQUIRETLS")).Should().StartWith("555 5.5.4", "RFC 8689: not offered in clear, so unknown");
        (await raw.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket, "mx.test");
        (await tls.EhloAsync("post.test")).Should().Contain("250-REQUIRETLS");
        (await tls.CommandAsync("MAIL FROM:<a@c.test> REQUIRETLS")).Should().StartWith("250 2.1.0");
        (await tls.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250 2.1.5");
        (await tls.CommandAsync("DATA")).Should().StartWith("354");
        (await tls.CommandAsync("Subject: t\r\n\r\nbody\r\n.")).Should().StartWith("250 2.0.0");
        store.Inner.Messages.Should().ContainSingle().Which.Envelope.RequireTls.Should().BeTrue();
    }

    private static async Task DeliverAsync(TlsSmtpClient tls)
    {
        (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250 2.1.0");
        (await tls.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250 2.1.5");
        (await tls.CommandAsync("DATA")).Should().StartWith("354");
        (await tls.CommandAsync("Subject: t\r\n\r\nbody\r\n.")).Should().StartWith("250 2.0.0");
    }
}
