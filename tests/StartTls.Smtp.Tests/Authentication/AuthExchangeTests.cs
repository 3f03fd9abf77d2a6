using System.Security.Authentication;
using System.Text;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;
using static StartTls.Smtp.Tests.Authentication.AuthTestKit;

namespace StartTls.Smtp.Tests.Authentication;

/// <summary>The AUTH exchange on the wire inside TLS: challenges, cancels, malformed responses, policy, hooks and the session facts.</summary>
public sealed class AuthExchangeTests
{
    private static async Task<(TestServer Server, RawSmtpClient Raw, TlsSmtpClient Tls, string Ehlo)> StartTlsSessionAsync(
        CountingUserStore users, Action<SmtpAuthenticationOptions>? more = null, IMessageStore? store = null, LogCapture? logs = null,
        SslProtocols protocols = SslProtocols.Tls12 | SslProtocols.Tls13)
    {
        var server = await TestServer.StartAsync(TlsServer(users, more) + (o => o.Tls.EnabledProtocols = protocols), store, loggerFactory: logs);
        var (raw, tls, ehlo) = await ConnectTlsAsync(server);
        return (server, raw, tls, ehlo);
    }

    private static async Task DeliverAsync(TlsSmtpClient tls, string mailFrom = "MAIL FROM:<a@c.test>")
    {
        (await tls.CommandAsync(mailFrom)).Should().StartWith("250 2.1.0");
        (await tls.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250 2.1.5");
        (await tls.CommandAsync("DATA")).Should().StartWith("354");
        (await tls.CommandAsync("Subject: auth\r\n\r\nhello\r\n.")).Should().StartWith("250 2.0.0");
    }

    // ---- advertisement ------------------------------------------------------------------------------------------

    [Fact]
    public async Task Ehlo_lists_every_configured_mechanism_under_tls_in_the_default_order()
    {
        var users = NewUsers();
        var (server, raw, tls, ehlo) = await StartTlsSessionAsync(users, protocols: SslProtocols.Tls12);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        AuthLine(ehlo).Should().Equal("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "PLAIN", "LOGIN", "OAUTHBEARER", "XOAUTH2", "CRAM-MD5");
        ehlo.Should().NotContain("STARTTLS");
    }

    [Theory]
    [InlineData(SslProtocols.Tls12, false, true)]
    [InlineData(SslProtocols.Tls13, false, false)]
    [InlineData(SslProtocols.Tls13, true, true)]
    public async Task Scram_plus_is_offered_on_tls12_and_on_tls13_only_when_opted_in(SslProtocols protocol, bool optIn, bool offered)
    {
        var users = NewUsers();
        var (server, raw, tls, ehlo) = await StartTlsSessionAsync(users, a => a.AdvertiseScramPlusOnTls13 = optIn, protocols: protocol);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;
        tls.Stream.SslProtocol.Should().Be(protocol);

        var expected = new List<string> { "SCRAM-SHA-256", "PLAIN", "LOGIN", "OAUTHBEARER", "XOAUTH2", "CRAM-MD5" };
        if (offered)
        {
            expected.Insert(0, "SCRAM-SHA-256-PLUS");
        }

        AuthLine(ehlo).Should().Equal(expected);
        if (!offered)
        {
            (await tls.CommandAsync("AUTH SCRAM-SHA-256-PLUS " + B64("p=tls-server-end-point,,n=alice,r=abc"))).Should().StartWith("504 5.5.4");
        }
    }

    [Fact]
    public async Task Ehlo_before_tls_lists_no_plus_mechanism_even_when_insecure_auth_is_allowed()
    {
        var users = NewUsers();
        await using var server = await TestServer.StartAsync(InsecureServer(users));
        await using var client = await server.ConnectAsync();
        AuthLine(await client.EhloAsync()).Should().Equal("SCRAM-SHA-256", "PLAIN", "LOGIN", "OAUTHBEARER", "XOAUTH2", "CRAM-MD5");
        (await client.CommandAsync("AUTH SCRAM-SHA-256-PLUS " + B64("p=tls-server-end-point,,n=alice,r=abc"))).Should().StartWith("504 5.5.4");
    }

    [Fact]
    public async Task Cram_md5_is_offered_only_when_enabled_and_nothing_without_hooks()
    {
        var users = NewUsers();
        await using (var server = await TestServer.StartAsync(TlsServer(users, a => a.EnableCramMd5 = false)))
        {
            var (raw, tls, ehlo) = await ConnectTlsAsync(server);
            await using var r = raw;
            await using var t = tls;
            AuthLine(ehlo).Should().NotContain("CRAM-MD5");
            (await tls.CommandAsync("AUTH CRAM-MD5")).Should().StartWith("504 5.5.4");
        }

        await using (var bare = await TestServer.StartAsync(TlsTestKit.WithCertificate()))
        {
            var (raw, tls, ehlo) = await ConnectTlsAsync(bare);
            await using var r = raw;
            await using var t = tls;
            AuthLine(ehlo).Should().BeEmpty("no credential hook, no AUTH");
            (await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password))).Should().StartWith("502 5.5.1");
            (await tls.CommandAsync("MAIL FROM:<a@c.test> AUTH=<>")).Should().StartWith("555 5.5.4", "AUTH= is a parameter only where AUTH is offered");
        }
    }

    // ---- PLAIN ---------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Plain_without_initial_response_gets_an_empty_challenge_then_succeeds()
    {
        var users = NewUsers();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        (await tls.CommandAsync("AUTH PLAIN")).Should().Be("334 ");
        (await tls.CommandAsync(Plain(User, Password))).Should().Be("235 2.7.0 Authentication successful");
    }

    [Fact]
    public async Task Plain_answering_the_empty_challenge_with_an_empty_line_is_malformed()
    {
        var users = NewUsers();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        (await tls.CommandAsync("AUTH PLAIN")).Should().Be("334 ");
        (await tls.CommandAsync("")).Should().Be("501 5.5.2 Malformed authentication response");
        users.TotalCalls.Should().Be(0);
    }

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("SCRAM-SHA-256")]
    [InlineData("XOAUTH2")]
    [InlineData("OAUTHBEARER")]
    public async Task Empty_initial_response_is_malformed_and_not_a_prompt(string mechanism)
    {
        // RFC 4954 §4: "=" is an initial response of zero length. None of these messages can be empty, so this fails;
        // a "334 " would wrongly treat it as "no initial response".
        var users = NewUsers();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        (await tls.CommandAsync("AUTH " + mechanism + " =")).Should().Be("501 5.5.2 Malformed authentication response");
        (await tls.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        users.TotalCalls.Should().Be(0);
    }

    [Theory]
    [InlineData("one NUL", "alice|secret")]
    [InlineData("no NUL", "alicesecret")]
    [InlineData("three NULs", "|alice|secret|")]
    [InlineData("NUL in the password", "|alice|sec|ret")]
    [InlineData("NUL in the authorization identity", "al|ice|alice|secret")]
    [InlineData("empty user name", "||secret")]
    [InlineData("empty password", "|alice|")]
    [InlineData("everything empty", "||")]
    public async Task Plain_malformed_messages_get_501_5_5_2_and_never_reach_the_hook(string label, string message)
    {
        var users = NewUsers();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        (await tls.CommandAsync("AUTH PLAIN " + B64(message.Replace('|', '\0')))).Should().Be("501 5.5.2 Malformed authentication response", label);
        users.TotalCalls.Should().Be(0, label);
        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password))).Should().StartWith("235", "the session is still usable after: " + label);
    }

    [Fact]
    public async Task Plain_with_invalid_utf8_is_malformed()
    {
        var users = NewUsers();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        byte[] message = [0, (byte)'a', 0xFF, (byte)'b', 0, (byte)'p', (byte)'w'];
        (await tls.CommandAsync("AUTH PLAIN " + B64(message))).Should().Be("501 5.5.2 Malformed authentication response");
        users.TotalCalls.Should().Be(0);
    }

    [Fact]
    public async Task Plain_authorization_identity_equal_to_the_user_is_accepted_and_another_refused()
    {
        var users = NewUsers();
        var store = new SessionRecorder();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users, store: store);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password, authzid: "bob"))).Should().StartWith("535 5.7.8");
        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password, authzid: User))).Should().StartWith("235");
        await DeliverAsync(tls);
        store.Snapshots.Single().Identity.Should().Be(User);
    }

    // ---- cancelling with "*" -------------------------------------------------------------------------------------

    [Theory]
    [InlineData("at the user name prompt")]
    [InlineData("at the password prompt")]
    [InlineData("at the password prompt after an initial user name")]
    public async Task Login_cancelled_at_any_step_gets_501_and_authenticates_nobody(string step)
    {
        var users = NewUsers();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users, a => a.RequireAuthentication = true);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        switch (step)
        {
            case "at the user name prompt":
                (await tls.CommandAsync("AUTH LOGIN")).Should().Be("334 VXNlcm5hbWU6");
                break;
            case "at the password prompt":
                (await tls.CommandAsync("AUTH LOGIN")).Should().Be("334 VXNlcm5hbWU6");
                (await tls.CommandAsync(B64(User))).Should().Be("334 UGFzc3dvcmQ6");
                break;
            default:
                (await tls.CommandAsync("AUTH LOGIN " + B64(User))).Should().Be("334 UGFzc3dvcmQ6");
                break;
        }

        (await tls.CommandAsync("*")).Should().Be("501 5.0.0 Authentication cancelled");
        users.TotalCalls.Should().Be(0);
        (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("530 5.7.0 Authentication required", "nobody is authenticated");

        // The exchange is over: a new one runs from the start.
        (await tls.CommandAsync("AUTH LOGIN")).Should().Be("334 VXNlcm5hbWU6");
        (await tls.CommandAsync(B64(User))).Should().Be("334 UGFzc3dvcmQ6");
        (await tls.CommandAsync(B64(Password))).Should().Be("235 2.7.0 Authentication successful");
        (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
    }

    [Theory]
    [InlineData("at the empty challenge")]
    [InlineData("at server-first")]
    [InlineData("at server-final")]
    public async Task Scram_cancelled_at_any_step_gets_501_and_authenticates_nobody(string step)
    {
        var users = NewUsers();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users, a => a.RequireAuthentication = true);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;
        var scram = new ScramTestClient(User, Password);

        if (step == "at the empty challenge")
        {
            (await tls.CommandAsync("AUTH SCRAM-SHA-256")).Should().Be("334 ");
        }
        else
        {
            var serverFirst = await tls.CommandAsync("AUTH SCRAM-SHA-256 " + B64(scram.ClientFirst));
            serverFirst.Should().StartWith("334 ");
            if (step == "at server-final")
            {
                var serverFinal = await tls.CommandAsync(B64(scram.ClientFinal(FromB64(serverFirst[4..]))));
                serverFinal.Should().StartWith("334 ");
                scram.IsServerFinalValid(FromB64(serverFinal[4..])).Should().BeTrue("the proof was right; only the final empty response is missing");
            }
        }

        (await tls.CommandAsync("*")).Should().Be("501 5.0.0 Authentication cancelled");
        (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("530 5.7.0 Authentication required",
            "a cancelled exchange authenticates nobody, even after a valid proof");

        var again = new ScramTestClient(User, Password);
        var first = await tls.CommandAsync("AUTH SCRAM-SHA-256 " + B64(again.ClientFirst));
        var final = await tls.CommandAsync(B64(again.ClientFinal(FromB64(first[4..]))));
        again.IsServerFinalValid(FromB64(final[4..])).Should().BeTrue();
        (await tls.CommandAsync("")).Should().Be("235 2.7.0 Authentication successful");
        (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
    }

    [Fact]
    public async Task Cancel_of_an_oauth_error_challenge_and_of_cram_md5()
    {
        var users = NewUsers();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        (await tls.CommandAsync("AUTH CRAM-MD5")).Should().StartWith("334 ");
        (await tls.CommandAsync("*")).Should().Be("501 5.0.0 Authentication cancelled");
        (await tls.CommandAsync("AUTH OAUTHBEARER")).Should().Be("334 ");
        (await tls.CommandAsync("*")).Should().Be("501 5.0.0 Authentication cancelled");
        (await tls.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
    }

    // ---- other mechanisms on the wire ----------------------------------------------------------------------------

    [Fact]
    public async Task Scram_sha_256_and_plus_over_raw_tls_with_the_servers_channel_binding()
    {
        var users = NewUsers();
        var store = new SessionRecorder();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users, a => a.AdvertiseScramPlusOnTls13 = true, store: store,
            protocols: SslProtocols.Tls13);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        // A wrong binding (another certificate's hash) fails like a wrong password.
        var wrongBinding = ScramTestClient.WithChannelBinding(User, Password, ScramTestClient.TlsServerEndPoint(TestCertificates.IssueServer("other.test")));
        var first = await tls.CommandAsync("AUTH SCRAM-SHA-256-PLUS " + B64(wrongBinding.ClientFirst));
        first.Should().StartWith("334 ");
        (await tls.CommandAsync(B64(wrongBinding.ClientFinal(FromB64(first[4..]))))).Should().Be("535 5.7.8 Authentication credentials invalid");

        var binding = ScramTestClient.TlsServerEndPoint(tls.ServerCertificate);
        var plus = ScramTestClient.WithChannelBinding(User, Password, binding);
        first = await tls.CommandAsync("AUTH SCRAM-SHA-256-PLUS " + B64(plus.ClientFirst));
        var final = await tls.CommandAsync(B64(plus.ClientFinal(FromB64(first[4..]))));
        final.Should().StartWith("334 ");
        plus.IsServerFinalValid(FromB64(final[4..])).Should().BeTrue("the server proves it knows the key");
        (await tls.CommandAsync("")).Should().Be("235 2.7.0 Authentication successful");
        await DeliverAsync(tls);

        store.Snapshots.Single().Should().Match<SessionSnapshot>(x => x.Identity == User && x.Mechanism == "SCRAM-SHA-256-PLUS" && x.ProtocolName == "ESMTPSA");
    }

    [Fact]
    public async Task Scram_plus_over_tls12_binds_with_the_clients_own_tls_unique()
    {
        var users = NewUsers();
        var store = new SessionRecorder();
        var (server, raw, tls, ehlo) = await StartTlsSessionAsync(users, store: store, protocols: SslProtocols.Tls12);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;
        AuthLine(ehlo).Should().Contain("SCRAM-SHA-256-PLUS");

        // The client's SslStream gives its own view of the channel: the client Finished, which the server sees as the peer's.
        var unique = StartTls.Smtp.Tls.ChannelBinding.TlsUnique(tls.Stream);
        unique.Should().NotBeNull().And.HaveCount(12, "TLS 1.2 verify_data is 12 bytes; a header left on would make it longer");
        var plus = new ScramTestClient(User, Password, "p=tls-unique,,", channelBinding: unique);
        var first = await tls.CommandAsync("AUTH SCRAM-SHA-256-PLUS " + B64(plus.ClientFirst));
        var final = await tls.CommandAsync(B64(plus.ClientFinal(FromB64(first[4..]))));
        final.Should().StartWith("334 ");
        plus.IsServerFinalValid(FromB64(final[4..])).Should().BeTrue();
        (await tls.CommandAsync("")).Should().Be("235 2.7.0 Authentication successful");
        await DeliverAsync(tls);

        store.Snapshots.Single().Mechanism.Should().Be("SCRAM-SHA-256-PLUS");
    }

    [Fact]
    public async Task Scram_plus_with_tls_exporter_gets_the_server_final_error_then_535()
    {
        var users = NewUsers();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users, a => a.AdvertiseScramPlusOnTls13 = true, protocols: SslProtocols.Tls13);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        var exporter = new ScramTestClient(User, Password, "p=tls-exporter,,", channelBinding: new byte[32]);
        var first = await tls.CommandAsync("AUTH SCRAM-SHA-256-PLUS " + B64(exporter.ClientFirst));
        first.Should().StartWith("334 ");
        var final = await tls.CommandAsync(B64(exporter.ClientFinal(FromB64(first[4..]))));

        final.Should().Be("334 " + B64("e=unsupported-channel-binding-type"), "RFC 5802 §7: the error is the server-final message");
        (await tls.CommandAsync("")).Should().Be("535 5.7.8 Authentication credentials invalid");
        (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250 2.1.0", "the session is not authenticated, and still usable");
    }

    [Fact]
    public async Task Scram_y_flag_on_tls12_where_plus_is_offered_is_a_downgrade()
    {
        var users = NewUsers();
        var (server, raw, tls, ehlo) = await StartTlsSessionAsync(users, protocols: SslProtocols.Tls12);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;
        AuthLine(ehlo).Should().Contain("SCRAM-SHA-256-PLUS");

        var downgraded = new ScramTestClient(User, Password, "y,,");
        var first = await tls.CommandAsync("AUTH SCRAM-SHA-256 " + B64(downgraded.ClientFirst));
        var final = await tls.CommandAsync(B64(downgraded.ClientFinal(FromB64(first[4..]))));

        final.Should().Be("334 " + B64("e=server-does-support-channel-binding"));
        (await tls.CommandAsync("")).Should().Be("535 5.7.8 Authentication credentials invalid");
    }

    [Fact]
    public async Task Scram_y_flag_on_tls13_where_plus_is_not_offered_logs_in()
    {
        var users = NewUsers();
        var (server, raw, tls, ehlo) = await StartTlsSessionAsync(users, protocols: SslProtocols.Tls13);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;
        AuthLine(ehlo).Should().NotContain("SCRAM-SHA-256-PLUS");

        var client = new ScramTestClient(User, Password, "y,,");
        var first = await tls.CommandAsync("AUTH SCRAM-SHA-256 " + B64(client.ClientFirst));
        var final = await tls.CommandAsync(B64(client.ClientFinal(FromB64(first[4..]))));
        client.IsServerFinalValid(FromB64(final[4..])).Should().BeTrue(final);
        (await tls.CommandAsync("")).Should().Be("235 2.7.0 Authentication successful");
    }

    [Fact]
    public async Task Scram_wrong_password_and_unknown_user_fail_alike_at_the_proof()
    {
        var users = NewUsers();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users, a => a.MaxFailures = 10);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        foreach (var (user, password) in new[] { (User, "wrong"), ("nobody", "wrong") })
        {
            var scram = new ScramTestClient(user, password);
            var first = await tls.CommandAsync("AUTH SCRAM-SHA-256 " + B64(scram.ClientFirst));
            first.Should().StartWith("334 ", "an unknown user still gets a salt and an iteration count");
            (await tls.CommandAsync(B64(scram.ClientFinal(FromB64(first[4..]))))).Should().Be("535 5.7.8 Authentication credentials invalid");
        }
    }

    [Fact]
    public async Task Login_with_initial_response_and_cram_md5_and_xoauth2_on_the_wire()
    {
        var users = NewUsers();
        await using var server = await TestServer.StartAsync(TlsServer(users));

        var (raw1, tls1, _) = await ConnectTlsAsync(server);
        await using (raw1)
        await using (tls1)
        {
            (await tls1.CommandAsync("AUTH LOGIN " + B64(User))).Should().Be("334 UGFzc3dvcmQ6");
            (await tls1.CommandAsync(B64(Password))).Should().StartWith("235");
        }

        var (raw2, tls2, _) = await ConnectTlsAsync(server);
        await using (raw2)
        await using (tls2)
        {
            var challenge = await tls2.CommandAsync("AUTH CRAM-MD5");
            challenge.Should().StartWith("334 ");
            var text = FromB64(challenge[4..]);
            text.Should().MatchRegex("^<.+@mx\\.test>$", "an RFC 2195 msg-id style challenge with the server name");
#pragma warning disable CA5351 // CRAM-MD5 is HMAC-MD5 by definition.
            var digest = Convert.ToHexStringLower(System.Security.Cryptography.HMACMD5.HashData(Encoding.UTF8.GetBytes(Password), Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5351
            (await tls2.CommandAsync(B64(User + " " + digest))).Should().StartWith("235");
        }

        var (raw3, tls3, _) = await ConnectTlsAsync(server);
        await using (raw3)
        await using (tls3)
        {
            (await tls3.CommandAsync("AUTH XOAUTH2 " + B64("user=alice\u0001auth=Bearer " + Token + "\u0001\u0001"))).Should().StartWith("235");
        }
    }

    // ---- policy: RequireAuthentication, AUTH=, the session facts -----------------------------------------------

    [Fact]
    public async Task Require_authentication_refuses_mail_until_auth_then_the_store_sees_the_identity()
    {
        var users = NewUsers();
        var store = new SessionRecorder();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users, a => a.RequireAuthentication = true, store);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("530 5.7.0 Authentication required");
        (await tls.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("503 5.5.1");
        (await tls.CommandAsync("DATA")).Should().StartWith("503 5.5.1");
        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, "wrong"))).Should().StartWith("535");
        (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("530 5.7.0 Authentication required", "a failed AUTH authenticates nobody");
        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password))).Should().StartWith("235");
        await DeliverAsync(tls, "MAIL FROM:<a@c.test> AUTH=<>");
        (await tls.CommandAsync("RSET")).Should().StartWith("250");
        await DeliverAsync(tls, "MAIL FROM:<a@c.test> AUTH=alice+40c.test");

        store.Snapshots.Should().HaveCount(2);
        foreach (var facts in store.Snapshots)
        {
            facts.Identity.Should().Be(User);
            facts.Mechanism.Should().Be("PLAIN");
            facts.ProtocolName.Should().Be("ESMTPSA");
            facts.IsSecure.Should().BeTrue();
        }

        store.Snapshots.Select(x => x.MailParameters["AUTH"]).Should().Equal("<>", "alice+40c.test");
    }

    [Fact]
    public async Task Plaintext_session_with_insecure_auth_is_esmtpa()
    {
        var users = NewUsers();
        var store = new SessionRecorder();
        await using var server = await TestServer.StartAsync(InsecureServer(users), store);
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandAsync("AUTH LOGIN")).Should().Be("334 VXNlcm5hbWU6");
        (await client.CommandAsync(B64(User))).Should().Be("334 UGFzc3dvcmQ6");
        (await client.CommandAsync(B64(Password))).Should().StartWith("235");
        (await client.CommandAsync("MAIL FROM:<a@c.test> AUTH=<>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        (await client.CommandAsync("DATA")).Should().StartWith("354");
        (await client.CommandAsync("x\r\n.")).Should().StartWith("250");

        store.Snapshots.Single().Should().Match<SessionSnapshot>(x =>
            x.Identity == User && x.Mechanism == "LOGIN" && x.ProtocolName == "ESMTPA" && !x.IsSecure && x.MailParameters["AUTH"] == "<>");
    }

    [Fact]
    public async Task Mail_without_require_authentication_is_accepted_before_auth()
    {
        var users = NewUsers();
        var store = new SessionRecorder();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users, store: store);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        await DeliverAsync(tls, "MAIL FROM:<a@c.test> AUTH=<>");
        store.Snapshots.Single().Should().Match<SessionSnapshot>(x => x.Identity == null && x.ProtocolName == "ESMTPS");
    }

    // ---- hooks: throttle, failures ------------------------------------------------------------------------------

    [Fact]
    public async Task Throttle_counts_attempts_and_outcomes_and_its_refusal_is_the_reply()
    {
        var users = NewUsers();
        var throttle = new CountingThrottle { Allow = 2 };
        await using var server = await TestServer.StartAsync(TlsServer(users, a => a.Throttle = throttle));

        var (raw, tls, _) = await ConnectTlsAsync(server);
        await using (raw)
        await using (tls)
        {
            (await tls.CommandAsync("AUTH PLAIN " + Plain(User, "wrong"))).Should().StartWith("535");
            (await tls.CommandAsync("AUTH LOGIN")).Should().Be("334 VXNlcm5hbWU6");
            (await tls.CommandAsync(B64(User))).Should().StartWith("334");
            (await tls.CommandAsync(B64(Password))).Should().StartWith("235");
        }

        throttle.Attempts.Should().Be(2);
        throttle.Failures.Should().Be(1);
        throttle.Successes.Should().Be(1);
        users.PasswordCalls.Should().Be(2);

        var (raw2, tls2, _) = await ConnectTlsAsync(server);
        await using (raw2)
        await using (tls2)
        {
            (await tls2.CommandAsync("AUTH PLAIN " + Plain(User, Password))).Should().Be("454 4.7.0 Too many authentication attempts from your address, try later");
            (await tls2.CommandAsync("AUTH LOGIN")).Should().StartWith("454 4.7.0", "a refused attempt never gets a 334");
            (await tls2.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        }

        throttle.Attempts.Should().Be(4);
        throttle.Failures.Should().Be(1, "a refused attempt is not an outcome");
        users.PasswordCalls.Should().Be(2, "a refused attempt never reaches the credential hook");
    }

    [Fact]
    public async Task Throttle_that_throws_gets_454()
    {
        var users = NewUsers();
        var throttle = new CountingThrottle { ThrowOnAttempt = true };
        var (server, raw, tls, _) = await StartTlsSessionAsync(users, a => a.Throttle = throttle);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password))).Should().Be("454 4.7.0 Temporary authentication failure");
        users.TotalCalls.Should().Be(0);
        (await tls.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
    }

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    [InlineData("SCRAM-SHA-256")]
    [InlineData("CRAM-MD5")]
    [InlineData("XOAUTH2")]
    [InlineData("OAUTHBEARER")]
    public async Task Hook_that_throws_gets_454_and_is_not_counted_as_a_failure(string mechanism)
    {
        var users = NewUsers();
        users.Failure = new InvalidOperationException("user database unavailable");
        var logs = new LogCapture();
        var (server, raw, tls, _) = await StartTlsSessionAsync(users, a => a.MaxFailures = 3, logs: logs);
        await using var s = server;
        await using var r = raw;
        await using var t = tls;

        // Four times: were these counted as failures, the third would close the connection.
        for (var i = 0; i < 4; i++)
        {
            (await RunToHookAsync(tls, mechanism)).Should().Be("454 4.7.0 Temporary authentication failure", mechanism);
        }

        (await tls.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        logs.All.Should().Contain("The authentication hook failed; replied 454").And.Contain("user database unavailable");

        users.Failure = null;
        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password))).Should().StartWith("235", "the database is back");
    }

    /// <summary>Runs one exchange of <paramref name="mechanism"/> up to the step that calls the credential hook; returns that reply.</summary>
    private static async Task<string> RunToHookAsync(TlsSmtpClient tls, string mechanism)
    {
        switch (mechanism)
        {
            case "PLAIN":
                return await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password));
            case "LOGIN":
                (await tls.CommandAsync("AUTH LOGIN " + B64(User))).Should().StartWith("334");
                return await tls.CommandAsync(B64(Password));
            case "SCRAM-SHA-256":
                return await tls.CommandAsync("AUTH SCRAM-SHA-256 " + B64(new ScramTestClient(User, Password).ClientFirst));
            case "CRAM-MD5":
                (await tls.CommandAsync("AUTH CRAM-MD5")).Should().StartWith("334");
                return await tls.CommandAsync(B64(User + " 0123456789abcdef0123456789abcdef"));
            case "XOAUTH2":
                return await tls.CommandAsync("AUTH XOAUTH2 " + B64("user=alice\u0001auth=Bearer " + Token + "\u0001\u0001"));
            default:
                return await tls.CommandAsync("AUTH OAUTHBEARER " + B64("n,a=alice,\u0001auth=Bearer " + Token + "\u0001\u0001"));
        }
    }
}
