using System.Globalization;
using System.Net;
using System.Text;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using StartTls.Smtp.Gateway.Tests.Infrastructure;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Gateway.Tests;

/// <summary>The gateway sample against our own server as the upstream, in-process.</summary>
public sealed class GatewayTests
{
    private const string Message = "From: a@sender.test\r\nTo: b@example.com\r\nSubject: hello\r\n\r\nBody line\r\n.dot line\r\n";

    [Fact]
    public async Task Mail_for_a_relay_domain_is_forwarded_with_our_Received_header_and_250_comes_after_the_upstreams()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Port);
        await using var client = await gateway.ConnectAsync();

        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250");
        var reply = await SendDataAsync(client, Message);

        reply.Should().StartWith("250 ");
        var stored = upstream.Messages.Messages.Should().ContainSingle().Subject;
        stored.Envelope.From!.Address.Should().Be("a@sender.test");
        stored.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("b@example.com");
        var content = stored.GetContentAsString();
        content.Should().StartWith("Received: from client.test ([127.0.0.1])").And.Contain("by gw.test with ESMTP");
        content.Should().Contain("Subject: hello").And.Contain("\r\n.dot line\r\n").And.NotContain("Return-Path");
    }

    [Fact]
    public async Task Mail_for_another_domain_on_the_MX_endpoint_is_refused_as_relaying_and_the_upstream_is_never_asked()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Port);
        await using var client = await gateway.ConnectAsync();

        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@elsewhere.test>")).Should().StartWith("550 5.7.1");
        (await client.CommandAsync("QUIT")).Should().StartWith("221");

        upstream.Filter.Senders.Should().Be(0);
        upstream.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task Submission_with_AUTH_relays_anywhere_and_without_AUTH_is_refused()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Port);
        using var smtp = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true, CheckCertificateRevocation = false };
        await smtp.ConnectAsync("127.0.0.1", gateway.SubmissionPort, SecureSocketOptions.StartTls);

        var message = MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(Message.Replace("b@example.com", "c@elsewhere.test", StringComparison.Ordinal))));
        var refused = async () => await smtp.SendAsync(message);
        (await refused.Should().ThrowAsync<MailKit.ServiceNotAuthenticatedException>()).Which.Message.Should().Contain("Authentication required");
        upstream.Filter.Senders.Should().Be(0);

        await smtp.AuthenticateAsync("alice", "secret");
        await smtp.SendAsync(message);
        await smtp.DisconnectAsync(quit: true);

        var stored = upstream.Messages.Messages.Should().ContainSingle().Subject;
        stored.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("c@elsewhere.test");
        stored.GetContentAsString().Should().Contain("with ESMTPSA");
    }

    [Fact]
    public async Task The_mx_endpoint_offers_no_auth_and_the_submission_endpoint_wants_starttls_first()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Port);
        await using var mx = await gateway.ConnectAsync();
        (await mx.EhloAsync()).Should().NotContain("AUTH", "the MX endpoint's policy offers no AUTH");
        (await mx.CommandAsync("AUTH PLAIN AGFsaWNlAHNlY3JldA==")).Should().StartWith("502 5.5.1");

        await using var submission = await RawSmtpClient.ConnectAsync(new IPEndPoint(IPAddress.Loopback, gateway.SubmissionPort));
        (await submission.ReadReplyAsync()).Should().StartWith("220");
        (await submission.EhloAsync()).Should().Contain("STARTTLS");
        (await submission.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("530 5.7.0", "RequireTls on the submission endpoint");
        upstream.Filter.Senders.Should().Be(0);
    }

    [Fact]
    public async Task A_recipient_the_upstream_refuses_at_RCPT_gets_the_upstreams_reply_and_the_others_are_delivered()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Port);
        await using var client = await gateway.ConnectAsync();

        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<nobody@example.com>")).Should().Be("550 5.1.1 No such user here");
        (await SendDataAsync(client, Message)).Should().StartWith("250 ");

        upstream.Messages.Messages.Should().ContainSingle().Which.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("b@example.com");
    }

    [Fact]
    public async Task The_upstreams_refusal_of_the_content_is_passed_back_at_the_end_of_data()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Port);
        await using var client = await gateway.ConnectAsync();

        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250");
        (await SendDataAsync(client, "X-Reject: yes\r\n" + Message)).Should().Be("554 5.7.1 Content refused upstream");

        // The session goes on: the next message is relayed over the same gateway session.
        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250");
        (await SendDataAsync(client, Message)).Should().StartWith("250 ");
        upstream.Messages.Count.Should().Be(1);
    }

    [Fact]
    public async Task With_the_upstream_down_the_client_gets_451_4_4_1_and_nothing_is_accepted()
    {
        var deadPort = TestGateway.FreePort();
        await using var gateway = await TestGateway.StartAsync(deadPort);
        await using var client = await gateway.ConnectAsync();

        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("451 4.4.1");
        (await client.CommandAsync("DATA")).Should().StartWith("554"); // no valid recipients: nothing to accept
    }

    [Fact]
    public async Task Required_upstream_TLS_without_STARTTLS_upstream_gives_451_and_no_MAIL_goes_out_in_the_clear()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Port, UpstreamTlsMode.Required);
        await using var client = await gateway.ConnectAsync();

        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("451 4.7.10");

        upstream.Filter.Senders.Should().Be(0);
        upstream.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task Required_upstream_TLS_with_the_upstreams_CA_delivers_and_an_untrusted_certificate_gives_451()
    {
        var directory = Path.Combine(Path.GetTempPath(), "gateway-ca-" + Guid.NewGuid().ToString("N"));
        var (certificate, key) = TestCertificates.WritePem(TestCertificates.IssueServer("localhost", "127.0.0.1"), directory, "upstream");
        var caFile = Path.Combine(directory, "ca.crt");
        await File.WriteAllTextAsync(caFile, TestCertificates.Ca.ExportCertificatePem());
        await using var upstream = await StartUpstreamAsync(o =>
        {
            o.Tls.CertificatePath = certificate;
            o.Tls.KeyPath = key;
        });

        await using (var trusted = await TestGateway.StartAsync(upstream.Port, UpstreamTlsMode.Required, caFile, upstreamHost: "localhost"))
        {
            await using var client = await trusted.ConnectAsync();
            (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
            (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250");
            (await SendDataAsync(client, Message)).Should().StartWith("250 ");
        }

        upstream.Messages.Messages.Should().ContainSingle().Which.GetContentAsString().Should().Contain("Subject: hello");

        // Without the CA (the system's trust store) the test certificate does not validate: 451, nothing sent.
        await using var untrusted = await TestGateway.StartAsync(upstream.Port, UpstreamTlsMode.Required, upstreamHost: "localhost");
        await using var refused = await untrusted.ConnectAsync();
        (await refused.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await refused.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("451 4.7.5");
        upstream.Filter.Senders.Should().Be(2); // the trusted gateway's RCPT-time probe and its real transaction; none since
    }

    [Fact]
    public async Task DSN_parameters_and_SMTPUTF8_arrive_upstream()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Port);
        await using var client = await gateway.ConnectAsync();

        (await Utf8CommandAsync(client, "MAIL FROM:<jörg@sender.test> RET=HDRS ENVID=env+2Bid SMTPUTF8")).Should().StartWith("250");
        (await Utf8CommandAsync(client, "RCPT TO:<b@example.com> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig@example.com")).Should().StartWith("250");
        (await SendDataAsync(client, "Subject: grüße\r\n\r\nhej\r\n")).Should().StartWith("250 ");

        var envelope = upstream.Messages.Messages.Should().ContainSingle().Subject.Envelope;
        envelope.IsSmtpUtf8.Should().BeTrue();
        envelope.From!.Address.Should().Be("jörg@sender.test");
        envelope.DsnReturn.Should().Be(DsnReturn.Headers);
        envelope.DsnEnvelopeId.Should().Be("env+id");
        var recipient = envelope.Recipients.Should().ContainSingle().Subject;
        recipient.DsnNotify.Should().Be(DsnNotify.Success | DsnNotify.Failure);
        recipient.OriginalRecipient.Should().NotBeNull(); // MailKit's own ORCPT (the RCPT address): it cannot pass the client's on
    }

    [Fact]
    public async Task SMTPUTF8_mail_is_refused_at_RCPT_when_the_upstream_does_not_offer_SMTPUTF8()
    {
        await using var upstream = await StartUpstreamAsync(o => o.EnableSmtpUtf8 = false);
        await using var gateway = await TestGateway.StartAsync(upstream.Port);
        await using var client = await gateway.ConnectAsync();

        (await Utf8CommandAsync(client, "MAIL FROM:<jörg@sender.test> SMTPUTF8")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("553 5.6.7");
        upstream.Filter.Senders.Should().Be(0);
    }

    [Fact]
    public async Task REQUIRETLS_mail_is_refused_when_the_upstream_path_is_not_TLS()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Port);
        using var smtp = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true, CheckCertificateRevocation = false };
        await using var client = await gateway.ConnectAsync();

        // REQUIRETLS is a MAIL parameter only over TLS; the raw client is plain, so the gateway's own check shows at MAIL.
        (await client.CommandAsync("MAIL FROM:<a@sender.test> REQUIRETLS")).Should().StartWith("5");
        upstream.Messages.Count.Should().Be(0);

        await smtp.ConnectAsync("127.0.0.1", gateway.Port, SecureSocketOptions.StartTls);
        smtp.RequireTLS = true;
        var message = MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(Message)));
        var send = async () => await smtp.SendAsync(message);
        (await send.Should().ThrowAsync<SmtpCommandException>()).Which.Message.Should().Contain("REQUIRETLS");
        upstream.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task The_upstream_connection_ends_when_the_client_quits()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Port);
        await using var client = await gateway.ConnectAsync();

        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250");
        upstream.Server.Server.ConnectionCount.Should().Be(1);

        // The client abandons the transaction: RSET then a new one reuses the upstream connection (RSET upstream too).
        (await client.CommandAsync("RSET")).Should().StartWith("250");
        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250");
        (await SendDataAsync(client, Message)).Should().StartWith("250 ");
        upstream.Server.Server.ConnectionCount.Should().Be(1);

        (await client.CommandAsync("QUIT")).Should().StartWith("221");
        (await Eventually.HoldsAsync(() => upstream.Server.Server.ConnectionCount == 0)).Should().BeTrue();
        upstream.Messages.Count.Should().Be(1);
    }

    [Fact]
    public async Task A_large_message_is_forwarded_from_a_private_spool_file_that_is_gone_after_the_reply()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Port);
        string[]? spooled = null;
        UnixFileMode? mode = null;
        upstream.Store.WhileForwarding = () =>
        {
            // The upstream is storing the message: the gateway is still sending it, from its spool file.
            spooled = gateway.SpoolFiles;
            mode = spooled.Length == 1 && !OperatingSystem.IsWindows() ? File.GetUnixFileMode(spooled[0]) : null;
        };
        await using var client = await gateway.ConnectAsync();
        var body = new StringBuilder();
        for (var i = 0; body.Length < 4 * 1024 * 1024; i++)
        {
            body.Append(CultureInfo.InvariantCulture, $"line {i:D7} ").Append('x', 60).Append("\r\n");
        }

        var original = "From: a@sender.test\r\nTo: b@example.com\r\nSubject: large\r\n\r\n" + body;
        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250");
        (await SendDataAsync(client, original)).Should().StartWith("250 ");

        spooled.Should().ContainSingle().Which.Should().EndWith(".eml");
        mode.Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite, "the spool file holds mail: its owner alone may read it");
        gateway.SpoolFiles.Should().BeEmpty();
        var content = upstream.Messages.Messages.Should().ContainSingle().Subject.GetContentAsString();
        content.Should().StartWith("Received: from client.test").And.EndWith(original);
        content.Length.Should().BeLessThan(original.Length + 1000);
    }

    [Fact]
    public async Task A_spool_that_cannot_be_written_gives_452_and_the_upstream_transaction_is_reset()
    {
        await using var upstream = await StartUpstreamAsync();
        var missing = Path.Combine(Path.GetTempPath(), "gateway-tests-missing-" + Guid.NewGuid().ToString("N"));
        await using var gateway = await TestGateway.StartAsync(upstream.Port, spoolDirectory: missing);
        await using var client = await gateway.ConnectAsync();

        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250");
        (await SendDataAsync(client, Message)).Should().StartWith("452 4.3.1");

        (await upstream.Filter.NextTransactionEndAsync()).Should().Be(SmtpTransactionEndReason.Reset);
        upstream.Messages.Count.Should().Be(0);
        Directory.Exists(missing).Should().BeFalse();
    }

    [Fact]
    public async Task A_client_that_goes_away_in_the_middle_of_the_content_leaves_no_spool_file()
    {
        await using var upstream = await StartUpstreamAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Port);
        var client = await gateway.ConnectAsync();

        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250");
        (await client.CommandAsync("DATA")).Should().StartWith("354");
        await client.SendAsync(Encoding.ASCII.GetBytes("Subject: cut\r\n\r\n" + new string('x', 200_000) + "\r\nno end"));
        await client.DisposeAsync();

        // The gateway QUITs the upstream when the client's session has closed, after its store let go of the spool.
        (await upstream.Filter.NextTransactionEndAsync()).Should().Be(SmtpTransactionEndReason.Closed);
        gateway.SpoolFiles.Should().BeEmpty();
        upstream.Messages.Count.Should().Be(0);
    }

    [Theory]
    [InlineData("RSET", SmtpTransactionEndReason.Reset)]
    [InlineData("EHLO client.test", SmtpTransactionEndReason.Reset)]
    public async Task A_transaction_the_client_abandons_is_reset_upstream_before_the_client_gets_its_reply(string command, SmtpTransactionEndReason upstreamEnd)
    {
        await using var upstream = await StartUpstreamAsync();
        await using var gateway = await TestGateway.StartAsync(upstream.Port);
        await using var client = await gateway.ConnectAsync();

        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250");
        (await client.CommandAsync(command)).Should().StartWith("250");

        // The upstream's transaction ended when the client's did, not at the client's next one: no MAIL is left open
        // upstream while the client idles.
        (await upstream.Filter.NextTransactionEndAsync()).Should().Be(upstreamEnd);
        upstream.Filter.Senders.Should().Be(1);

        // The same upstream connection carries the next transaction.
        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250");
        (await SendDataAsync(client, Message)).Should().StartWith("250 ");
        upstream.Messages.Count.Should().Be(1);
        upstream.Server.Server.ConnectionCount.Should().Be(1);
    }

    [Theory]
    [InlineData("example.com", true)]
    [InlineData("EXAMPLE.COM", true)]
    [InlineData("example.com.", true)]
    [InlineData("mail.example.com", false)]
    [InlineData("example.org", false)]
    [InlineData("sub.example.org", true)]
    [InlineData("a.b.example.org", true)]
    [InlineData("example.org.evil.test", false)]
    [InlineData("badexample.org", false)]
    [InlineData("xexample.com", false)]
    public void Relay_domains_match_exactly_and_a_leading_dot_matches_the_subdomains(string domain, bool relayed)
    {
        var options = GatewayOptions.Parse(
            ["--listen", "127.0.0.1:2526", "--upstream", "127.0.0.1:2525", "--relay-domain", "example.com", "--relay-domain", ".example.org"],
            out var error)!;

        error.Should().BeNull();
        options.IsRelayDomain(domain).Should().Be(relayed);
    }

    [Theory]
    [InlineData(new[] { "--listen", "127.0.0.1:2526", "--upstream", "127.0.0.1:2525" }, null)]
    [InlineData(new[] { "--upstream", "127.0.0.1:2525" }, "--listen is required")]
    [InlineData(new[] { "--listen", "127.0.0.1:2526" }, "--upstream is required")]
    [InlineData(new[] { "--listen", "127.0.0.1:2526", "--upstream", "127.0.0.1:2525", "--upstream-tls", "sometimes" }, "bad or unknown option --upstream-tls sometimes")]
    [InlineData(new[] { "--listen", "127.0.0.1:2526", "--upstream", "127.0.0.1:2525", "--user", "a:b" }, "--user needs --submission")]
    [InlineData(new[] { "--listen", "127.0.0.1:2526", "--upstream", "127.0.0.1:2525", "--submission", "127.0.0.1:2587" }, "--submission needs --user (the endpoint takes mail from authenticated users only)")]
    [InlineData(new[] { "--listen", "127.0.0.1:2526", "--upstream", "127.0.0.1:2525", "--bogus", "x" }, "bad or unknown option --bogus x")]
    [InlineData(new[] { "--listen", "127.0.0.1:2526", "--upstream", "127.0.0.1:2525", "--relay-domain", "." }, "bad or unknown option --relay-domain .")]
    public void The_command_line_is_parsed_strictly(string[] args, string? error)
    {
        var options = GatewayOptions.Parse(args, out var message);

        message.Should().Be(error);
        (options is null).Should().Be(error is not null);
    }

    [Fact]
    public void The_command_line_takes_every_documented_flag()
    {
        var options = GatewayOptions.Parse(
        [
            "--listen", "127.0.0.1:2526", "--upstream", "[::1]:2525", "--upstream-tls", "opportunistic", "--upstream-ca", "ca.pem",
            "--relay-domain", "example.com", "--relay-domain", "example.org.", "--submission", "127.0.0.1:2587",
            "--user", "alice:se:cret", "--hostname", "gw.test", "--spool", "/var/spool/gw",
        ], out var error)!;

        error.Should().BeNull();
        options.UpstreamHost.Should().Be("::1");
        options.UpstreamPort.Should().Be(2525);
        options.UpstreamTls.Should().Be(UpstreamTlsMode.Opportunistic);
        options.UpstreamCa.Should().Be("ca.pem");
        options.IsRelayDomain("EXAMPLE.org").Should().BeTrue();
        options.IsRelayDomain("sub.example.com").Should().BeFalse();
        options.Users.Should().Equal(new GatewayUser("alice", "se:cret"));
        options.ServerName.Should().Be("gw.test");
        options.SpoolDirectory.Should().Be("/var/spool/gw");
        GatewayOptions.Parse(["--help"], out error).Should().BeNull();
        error.Should().BeNull();
    }

    private static Task<Upstream> StartUpstreamAsync(Action<SmtpServerOptions>? configure = null) => Upstream.StartAsync(configure);

    private static async Task<string> SendDataAsync(RawSmtpClient client, string content)
    {
        (await client.CommandAsync("DATA")).Should().StartWith("354");
        var stuffed = content.Replace("\r\n.", "\r\n..", StringComparison.Ordinal);
        await client.SendAsync(Encoding.UTF8.GetBytes(stuffed + ".\r\n"));
        return await client.ReadReplyAsync();
    }

    private static async Task<string> Utf8CommandAsync(RawSmtpClient client, string line)
    {
        await client.SendAsync(Encoding.UTF8.GetBytes(line + "\r\n"));
        return await client.ReadReplyAsync();
    }
}
