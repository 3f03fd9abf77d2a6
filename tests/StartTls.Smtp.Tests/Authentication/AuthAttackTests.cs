using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using StartTls.Smtp.Tests.Infrastructure;
using static StartTls.Smtp.Tests.Authentication.AuthTestKit;

namespace StartTls.Smtp.Tests.Authentication;

/// <summary>docs/threat-model.md T13 and T20–T24 on raw sockets: exact bytes in, exact replies out.</summary>
public sealed class AuthAttackTests
{
    // ---- T20: AUTH before TLS ------------------------------------------------------------------------------------

    [Theory]
    [InlineData("AUTH PLAIN AHVzZXIAcGFzcw==")] // \0user\0pass, the catalogue's bytes
    [InlineData("AUTH PLAIN AGFsaWNlAHNlY3JldA==")] // \0alice\0secret: valid credentials get the same reply
    [InlineData("AUTH LOGIN")]
    [InlineData("AUTH LOGIN YWxpY2U=")]
    [InlineData("AUTH PLAIN")]
    [InlineData("AUTH SCRAM-SHA-256 biwsbj1hbGljZSxyPWFiYw==")]
    [InlineData("AUTH CRAM-MD5")]
    [InlineData("AUTH XOAUTH2")]
    [InlineData("AUTH FOO")]
    public async Task T20_auth_before_tls_gets_530_never_334_and_no_hook_is_called(string command)
    {
        var users = NewUsers();
        var throttle = new CountingThrottle();
        await using var server = await TestServer.StartAsync(TlsServer(users, a => a.Throttle = throttle));

        // A fresh connection for each form, as the catalogue asks.
        await using var client = await server.ConnectAsync();
        var ehlo = await client.EhloAsync();
        ehlo.Should().Contain("STARTTLS");
        AuthLine(ehlo).Should().BeEmpty("AUTH is not advertised before TLS (RFC 4954 §6, T18)");

        var reply = await client.CommandAsync(command);
        reply.Should().Be("530 5.7.0 Must issue a STARTTLS command first");

        // Nothing is waiting for a SASL response: the next line is a command again.
        (await client.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        users.TotalCalls.Should().Be(0, "the credential hooks are never called before TLS");
        throttle.Attempts.Should().Be(0, "the throttle is not consulted either");
    }

    [Fact]
    public async Task T20_both_catalogue_forms_on_fresh_connections_with_a_counting_authenticator()
    {
        var users = NewUsers();
        await using var server = await TestServer.StartAsync(TlsServer(users));

        await using (var first = await server.ConnectAsync())
        {
            await first.EhloAsync();
            (await first.CommandAsync("AUTH PLAIN AHVzZXIAcGFzcw==")).Should().StartWith("530 5.7.0");
        }

        await using (var second = await server.ConnectAsync())
        {
            await second.EhloAsync();
            (await second.CommandAsync("AUTH LOGIN")).Should().StartWith("530 5.7.0");
            // Had the server sent 334, this line would be taken as a user name; it must be a command instead.
            (await second.CommandAsync(B64(User))).Should().StartWith("500 5.5.1");
        }

        users.PasswordCalls.Should().Be(0);
        users.TotalCalls.Should().Be(0);
    }

    // ---- T21: AUTH syntax requirements (P+T) ---------------------------------------------------------------------

    [Fact]
    public async Task T21_syntax_requirements_inside_tls()
    {
        var users = NewUsers();
        await using var server = await TestServer.StartAsync(TlsServer(users, a => a.MaxFailures = 20));
        var (raw, tls, ehlo) = await ConnectTlsAsync(server);
        await using var _ = raw;
        await using var __ = tls;
        AuthLine(ehlo).Should().Contain(["PLAIN", "LOGIN", "CRAM-MD5"]);

        (await tls.CommandAsync("AUTH PLAIN ###")).Should().Be("501 5.5.2 Cannot decode response");
        (await tls.CommandAsync("AUTH PLAIN AAA=BBBB")).Should().Be("501 5.5.2 Cannot decode response");

        (await tls.CommandAsync("AUTH PLAIN")).Should().Be("334 ", "an empty challenge asks for the initial response");
        (await tls.CommandAsync("*")).Should().Be("501 5.0.0 Authentication cancelled");

        (await tls.CommandAsync("AUTH CRAM-MD5 " + B64("alice 0123456789abcdef0123456789abcdef"))).Should()
            .Be("501 5.7.0 Initial response not allowed for this mechanism");
        (await tls.CommandAsync("AUTH FOO")).Should().Be("504 5.5.4 Unrecognized authentication type");
        (await tls.CommandAsync("AUTH")).Should().StartWith("501 5.5.4");
        users.TotalCalls.Should().Be(0, "no line so far carried usable credentials");

        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password))).Should().Be("235 2.7.0 Authentication successful");
        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password))).Should().StartWith("503 5.5.1");
        (await tls.CommandAsync("AUTH LOGIN")).Should().StartWith("503 5.5.1");
        users.PasswordCalls.Should().Be(1, "AUTH after success is refused before any hook runs");
    }

    [Fact]
    public async Task T21_auth_inside_a_transaction_gets_503()
    {
        var users = NewUsers();
        await using var server = await TestServer.StartAsync(TlsServer(users));
        var (raw, tls, _) = await ConnectTlsAsync(server);
        await using var r = raw;
        await using var t = tls;

        (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250 2.1.0");
        (await tls.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250 2.1.5");
        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password))).Should().Be("503 5.5.1 AUTH not allowed inside a mail transaction");
        (await tls.CommandAsync("AUTH LOGIN")).Should().StartWith("503 5.5.1");
        users.TotalCalls.Should().Be(0);

        (await tls.CommandAsync("RSET")).Should().Be("250 2.0.0 OK");
        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password))).Should().StartWith("235 2.7.0");
    }

    // ---- T22: failed logins -------------------------------------------------------------------------------------

    [Fact]
    public async Task T22_three_failures_get_identical_535s_then_421_and_close()
    {
        var users = NewUsers();
        await using var server = await TestServer.StartAsync(TlsServer(users, a => a.MaxFailures = 3));
        var (raw, tls, _) = await ConnectTlsAsync(server);
        await using var r = raw;
        await using var t = tls;

        // The catalogue's bytes: \0alice\0wrong.
        (await tls.CommandAsync("AUTH PLAIN AGFsaWNlAHdyb25n")).Should().Be("535 5.7.8 Authentication credentials invalid");
        (await tls.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK", "the server does not drop before the third failure");
        (await tls.CommandAsync("AUTH PLAIN " + Plain("mallory", "wrong"))).Should().Be("535 5.7.8 Authentication credentials invalid",
            "an unknown user gets exactly the wrong-password text");
        (await tls.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");

        await tls.SendAsync("AUTH PLAIN AGFsaWNlAHdyb25n\r\n");
        (await tls.ReadReplyAsync()).Should().Be("535 5.7.8 Authentication credentials invalid");
        (await tls.ReadReplyAsync()).Should().StartWith("421 4.7.0");
        (await tls.IsClosedAsync()).Should().BeTrue("the server closes after the 421");
        users.PasswordCalls.Should().Be(3);
    }

    [Fact]
    public async Task T22_failures_of_different_mechanisms_add_up()
    {
        var users = NewUsers();
        await using var server = await TestServer.StartAsync(TlsServer(users));
        var (raw, tls, _) = await ConnectTlsAsync(server);
        await using var r = raw;
        await using var t = tls;

        (await tls.CommandAsync("AUTH LOGIN " + B64(User))).Should().Be("334 UGFzc3dvcmQ6");
        (await tls.CommandAsync(B64("nope"))).Should().Be("535 5.7.8 Authentication credentials invalid");
        (await tls.CommandAsync("AUTH XOAUTH2 " + B64("user=alice\u0001auth=Bearer bad-token\u0001\u0001"))).Should().StartWith("334 ");
        (await tls.CommandAsync("")).Should().Be("535 5.7.8 Authentication credentials invalid");
        await tls.SendAsync("AUTH PLAIN " + Plain(User, "nope") + "\r\n");
        (await tls.ReadReplyAsync()).Should().Be("535 5.7.8 Authentication credentials invalid");
        (await tls.ReadReplyAsync()).Should().StartWith("421 4.7.0");
        (await tls.IsClosedAsync()).Should().BeTrue();
    }

    [Fact]
    public async Task T22_unknown_user_and_wrong_password_take_the_same_time()
    {
        var users = NewUsers();
        await using var server = await TestServer.StartAsync(TlsServer(users, a => a.MaxFailures = 1000));
        var (raw, tls, _) = await ConnectTlsAsync(server);
        await using var r = raw;
        await using var t = tls;

        // Warm up both paths (JIT, first hash).
        (await tls.CommandAsync("AUTH PLAIN " + Plain("nobody", "x"))).Should().StartWith("535");
        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, "x"))).Should().StartWith("535");

        var unknown = new List<double>();
        var wrong = new List<double>();
        var replies = new HashSet<string>();
        for (var i = 0; i < 8; i++)
        {
            // Interleaved, so background load falls on both samples alike. Bad commands count towards
            // MaxBadCommands (20), so 2 + 16 failures stay under it.
            unknown.Add(await TimeAsync(tls, Plain("nobody" + i, "wrong-" + i), replies));
            wrong.Add(await TimeAsync(tls, Plain(User, "wrong-" + i), replies));
        }

        replies.Should().ContainSingle().Which.Should().Be("535 5.7.8 Authentication credentials invalid");
        var difference = Math.Abs(Median(unknown) - Median(wrong));
        difference.Should().BeLessThan(10, $"unknown user median {Median(unknown):F2} ms vs wrong password median {Median(wrong):F2} ms");
    }

    private static async Task<double> TimeAsync(TlsSmtpClient tls, string plain, HashSet<string> replies)
    {
        var watch = Stopwatch.StartNew();
        var reply = await tls.CommandAsync("AUTH PLAIN " + plain);
        watch.Stop();
        replies.Add(reply);
        return watch.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    [Fact]
    public async Task T22_credentials_never_reach_replies_or_logs()
    {
        const string password = "Pw-Sentinel-7f3a9c";
        const string wrongPassword = "Wrong-Sentinel-51d2e8";
        var users = new CountingUserStore(new Smtp.Authentication.InMemoryUserStore().AddUser("carol", password).AddToken("Token-Sentinel-0b6f", "carol"));
        var logs = new LogCapture();
        await using var server = await TestServer.StartAsync(TlsServer(users, a => a.MaxFailures = 10), loggerFactory: logs);
        var (raw, tls, _) = await ConnectTlsAsync(server);
        await using var r = raw;
        await using var t = tls;

        var secrets = new List<string> { password, wrongPassword, "Token-Sentinel-0b6f", "Bad-Token-Sentinel-99" };
        var replies = new List<string>();
        async Task Say(string line, string? secret = null)
        {
            if (secret is not null)
            {
                secrets.Add(secret);
            }

            replies.Add(await tls.CommandAsync(line));
        }

        await Say("AUTH PLAIN " + Plain("carol", wrongPassword), Plain("carol", wrongPassword));
        await Say("AUTH PLAIN " + Plain("nobody", password), Plain("nobody", password));
        await Say("AUTH LOGIN");
        await Say(B64("carol"));
        await Say(B64(wrongPassword), B64(wrongPassword));
        await Say("AUTH XOAUTH2 " + B64("user=carol\u0001auth=Bearer Bad-Token-Sentinel-99\u0001\u0001"), B64("user=carol\u0001auth=Bearer Bad-Token-Sentinel-99\u0001\u0001"));
        await Say("");
        var longLine = string.Concat(Enumerable.Repeat(Plain("carol", "Long-Sentinel-3c1d"), 700));
        await Say("AUTH PLAIN " + longLine, Plain("carol", "Long-Sentinel-3c1d"));
        replies[^1].Should().StartWith("500 5.5.6");
        await Say("AUTH PLAIN " + Plain("carol", password), Plain("carol", password));
        replies[^1].Should().StartWith("235");
        await tls.CommandAsync("QUIT");

        // Everything about the session has been logged once its close is.
        (await Eventually.HoldsAsync(() => logs.All.Contains("Connection closed", StringComparison.Ordinal))).Should().BeTrue(logs.All);

        logs.Lines.Should().NotBeEmpty();
        logs.All.Should().Contain("Authentication with PLAIN failed", "failures are logged, without their data");
        logs.All.Should().Contain("Authenticated with PLAIN");
        foreach (var secret in secrets)
        {
            logs.All.Should().NotContain(secret);
            string.Join("\n", replies).Should().NotContain(secret);
        }
    }

    // ---- T23: oversized SASL lines ------------------------------------------------------------------------------

    [Fact]
    public async Task T23_twenty_thousand_character_auth_line_gets_500_5_5_6_and_the_session_continues()
    {
        var users = NewUsers();
        await using var server = await TestServer.StartAsync(TlsServer(users));
        var (raw, tls, _) = await ConnectTlsAsync(server);
        await using var r = raw;
        await using var t = tls;

        (await tls.CommandAsync("AUTH PLAIN " + new string('A', 20_000))).Should().Be("500 5.5.6 Authentication exchange line is too long");
        (await tls.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK", "the rest of the line was discarded up to its CRLF");

        // The same for a response inside an exchange: the exchange is over.
        (await tls.CommandAsync("AUTH PLAIN")).Should().Be("334 ");
        (await tls.CommandAsync(new string('A', 20_000))).Should().Be("500 5.5.6 Authentication exchange line is too long");
        (await tls.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        users.TotalCalls.Should().Be(0);

        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password))).Should().StartWith("235");
    }

    [Fact]
    public async Task T23_the_limit_is_12288_octets_including_crlf()
    {
        var users = NewUsers();
        await using var server = await TestServer.StartAsync(TlsServer(users, a => a.MaxFailures = 10));
        var (raw, tls, _) = await ConnectTlsAsync(server);
        await using var r = raw;
        await using var t = tls;

        // "AUTH PLAIN " (11) + base64 + CRLF. 12272 base64 characters: 12285 octets, under the limit.
        var fits = PlainOfEncodedLength(12272);
        (11 + fits.Length + 2).Should().Be(12285);
        (await tls.CommandAsync("AUTH PLAIN " + fits)).Should().Be("535 5.7.8 Authentication credentials invalid");

        // 12276 base64 characters: 12289 octets, one over.
        var over = PlainOfEncodedLength(12276);
        (await tls.CommandAsync("AUTH PLAIN " + over)).Should().StartWith("500 5.5.6");
        users.PasswordCalls.Should().Be(1);
    }

    /// <summary>A PLAIN message for alice with a long wrong password, whose base64 has exactly <paramref name="encodedLength"/> characters.</summary>
    private static string PlainOfEncodedLength(int encodedLength)
    {
        var bytes = (encodedLength / 4 * 3) - "\0alice\0".Length;
        var encoded = Plain(User, new string('p', bytes));
        encoded.Length.Should().Be(encodedLength);
        return encoded;
    }

    [Fact]
    public async Task T23_ten_megabytes_without_crlf_are_discarded_while_the_server_serves_others()
    {
        var users = NewUsers();
        await using var server = await TestServer.StartAsync(TlsServer(users));
        var (raw, tls, _) = await ConnectTlsAsync(server);
        await using var r = raw;
        await using var t = tls;

        var chunk = new string('A', 64 * 1024);
        await tls.SendAsync("AUTH PLAIN ");
        var sent = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (sent < 10 * 1024 * 1024)
        {
            // The writes complete only because the server keeps reading (and dropping) the line.
            await tls.SendAsync(chunk).WaitAsync(deadline.Token);
            sent += chunk.Length;
            if (sent == 5 * 1024 * 1024)
            {
                await using var other = await server.ConnectAsync();
                (await other.EhloAsync()).Should().StartWith("250-");
                (await other.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK", "another client is served during the flood");
            }
        }

        (await tls.IsSilentForAsync(TimeSpan.FromMilliseconds(200))).Should().BeTrue("no reply before the line ends");
        await tls.SendAsync("\r\n");
        (await tls.ReadReplyAsync()).Should().StartWith("500 5.5.6");
        (await tls.CommandAsync("NOOP")).Should().Be("250 2.0.0 OK");
        users.TotalCalls.Should().Be(0);
    }

    [Fact]
    public async Task T23_ten_megabytes_without_crlf_never_hold_more_than_a_bounded_amount_unconsumed()
    {
        // Served over a pipe whose writer blocks once 64 KiB are unconsumed: if the server kept the over-long line
        // (examined but not consumed), the flood below would stall and the test would time out.
        var users = NewUsers();
        await using var server = await TestServer.StartAsync(InsecureServer(users));
        await using var connection = PipeConnection.Start(server.Server, toServer: new PipeOptions(pauseWriterThreshold: 64 * 1024, resumeWriterThreshold: 32 * 1024, useSynchronizationContext: false));

        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await connection.Input.WriteAsync("EHLO pipe.test\r\nAUTH PLAIN "u8.ToArray(), deadline.Token);
        var chunk = new byte[16 * 1024];
        Array.Fill(chunk, (byte)'A');
        for (var sent = 0; sent < 10 * 1024 * 1024; sent += chunk.Length)
        {
            var flush = await connection.Input.WriteAsync(chunk, deadline.Token);
            flush.IsCanceled.Should().BeFalse();
        }

        await connection.Input.WriteAsync("\r\nNOOP\r\nQUIT\r\n"u8.ToArray(), deadline.Token);
        await connection.CompleteInputAsync();
        await connection.Session.WaitAsync(deadline.Token);
        var text = await connection.ReadToEndAsync(TimeSpan.FromSeconds(30));

        text.Should().Contain("\r\n500 5.5.6 ").And.Contain("\r\n250 2.0.0 OK\r\n221 2.0.0");
        users.TotalCalls.Should().Be(0);
    }

    // ---- T24: AUTH LOGIN followed by a pipelined command ---------------------------------------------------------

    [Fact]
    public async Task T24_pipelined_mail_after_auth_login_is_read_as_a_response_and_never_executed()
    {
        var users = NewUsers();
        var filter = new CountingFilter();
        await using var server = await TestServer.StartAsync(TlsServer(users), filter: filter);
        var (raw, tls, _) = await ConnectTlsAsync(server);
        await using var r = raw;
        await using var t = tls;

        await tls.SendAsync("AUTH LOGIN\r\nMAIL FROM:<a@c.test>\r\n");
        (await tls.ReadReplyAsync()).Should().Be("334 VXNlcm5hbWU6");
        (await tls.ReadReplyAsync()).Should().Be("501 5.5.2 Cannot decode response");
        (await tls.IsSilentForAsync(TimeSpan.FromMilliseconds(300))).Should().BeTrue("exactly two replies");

        (await tls.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("503 5.5.1", "MAIL never opened a transaction");
        filter.Senders.Should().Be(0, "MAIL never reached the sender check");
        users.TotalCalls.Should().Be(0);
    }

    [Fact]
    public async Task T24_pipelined_mail_after_auth_plain_with_initial_response_runs_after_authentication()
    {
        // RFC 4954 §4: an AUTH with a one-round-trip initial response may be followed by more commands in a group.
        var users = NewUsers();
        await using var server = await TestServer.StartAsync(TlsServer(users, a => a.RequireAuthentication = true));
        var (raw, tls, _) = await ConnectTlsAsync(server);
        await using var r = raw;
        await using var t = tls;

        await tls.SendAsync("AUTH PLAIN " + Plain(User, Password) + "\r\nMAIL FROM:<a@c.test>\r\n");
        (await tls.ReadReplyAsync()).Should().StartWith("235 2.7.0");
        (await tls.ReadReplyAsync()).Should().StartWith("250 2.1.0");
    }

    private sealed class CountingFilter : IMailboxFilter
    {
        private int _senders;

        public int Senders => Volatile.Read(ref _senders);

        public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _senders);
            return ValueTask.FromResult(SmtpReply.SenderOk);
        }

        public ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken)
            => ValueTask.FromResult(SmtpReply.RecipientOk);
    }

    // ---- T13: session fixation across STARTTLS -------------------------------------------------------------------

    [Fact]
    public async Task T13_identity_from_before_starttls_is_forgotten_and_a_new_auth_is_accepted()
    {
        var users = NewUsers();
        users.Inner.AddUser("attacker", "pw");
        var store = new SessionRecorder();
        await using var server = await TestServer.StartAsync(TlsServer(users, a =>
        {
            a.AllowInsecureAuthentication = true;
            a.RequireAuthentication = true;
            a.AdvertiseScramPlusOnTls13 = true;
        }), store);

        await using var raw = await server.ConnectAsync();
        var plainEhlo = await raw.EhloAsync("pre.test");
        plainEhlo.Should().Contain("STARTTLS");
        AuthLine(plainEhlo).Should().Contain("PLAIN").And.NotContain("SCRAM-SHA-256-PLUS", "-PLUS needs a TLS channel");
        (await raw.CommandAsync("AUTH PLAIN AGF0dGFja2VyAHB3")).Should().Be("235 2.7.0 Authentication successful"); // \0attacker\0pw
        (await raw.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket);

        var ehlo = await tls.EhloAsync("post.test");
        AuthLine(ehlo).Should().Contain(["SCRAM-SHA-256-PLUS", "PLAIN"]);
        (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("530 5.7.0 Authentication required");
        (await tls.CommandAsync("AUTH PLAIN " + Plain(User, Password))).Should().Be("235 2.7.0 Authentication successful",
            "the pre-TLS identity is gone, so AUTH is not 'already authenticated'");
        (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250 2.1.0");
        (await tls.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250 2.1.5");
        (await tls.CommandAsync("DATA")).Should().StartWith("354");
        (await tls.CommandAsync("Subject: t13\r\n\r\nhello\r\n.")).Should().StartWith("250 2.0.0");

        var facts = store.Snapshots.Should().ContainSingle().Subject;
        facts.Identity.Should().Be(User);
        facts.Mechanism.Should().Be("PLAIN");
        facts.ProtocolName.Should().Be("ESMTPSA");
        users.PasswordUsers.Should().Equal("attacker", User);
    }

    [Fact]
    public async Task T13_without_a_new_auth_nothing_is_accepted_after_starttls()
    {
        var users = NewUsers();
        var store = new SessionRecorder();
        await using var server = await TestServer.StartAsync(TlsServer(users, a => a.AllowInsecureAuthentication = true), store);

        // Without RequireAuthentication, mail after STARTTLS is accepted, but not as the pre-TLS identity.
        await using var raw = await server.ConnectAsync();
        await raw.EhloAsync();
        (await raw.CommandAsync("AUTH PLAIN " + Plain(User, Password))).Should().StartWith("235");
        (await raw.CommandAsync("STARTTLS")).Should().StartWith("220");
        await using var tls = await TlsSmtpClient.HandshakeAsync(raw.Socket);
        await tls.EhloAsync();
        (await tls.CommandAsync("MAIL FROM:<a@c.test> AUTH=<>")).Should().StartWith("250");
        (await tls.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        (await tls.CommandAsync("DATA")).Should().StartWith("354");
        (await tls.CommandAsync("x\r\n.")).Should().StartWith("250");

        var facts = store.Snapshots.Should().ContainSingle().Subject;
        facts.Identity.Should().BeNull();
        facts.Mechanism.Should().BeNull();
        facts.ProtocolName.Should().Be("ESMTPS");
    }
}
