using System.Globalization;
using System.Net;
using System.Net.Sockets;
using SslProtocols = System.Security.Authentication.SslProtocols;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using StartTls.Smtp.Tests.Infrastructure;
using static StartTls.Smtp.Tests.Authentication.AuthTestKit;

namespace StartTls.Smtp.Tests.Authentication;

/// <summary>
/// Real SMTP clients authenticating over STARTTLS, each validating the server certificate against the test CA:
/// MailKit with every mechanism it has, System.Net.Mail (LOGIN), swaks (PLAIN, LOGIN, CRAM-MD5) and Python's smtplib.
/// Each also fails once with a wrong secret.
/// </summary>
public sealed class AuthRealClientTests : IDisposable
{
    private readonly ClientCaDirectory _ca = new();

    private string CaPath => _ca.CaPath;

    public void Dispose() => _ca.Dispose();

    private static Task<TestServer> StartAsync(CountingUserStore users, SessionRecorder store,
        bool scramPlusOnTls13 = false, SslProtocols protocols = SslProtocols.Tls12 | SslProtocols.Tls13)
        => TestServer.StartAsync(TlsServer(users, a =>
        {
            a.RequireAuthentication = true;
            a.AdvertiseScramPlusOnTls13 = scramPlusOnTls13;
        }) + (o => o.Tls.EnabledProtocols = protocols), store);

    private static string Port(TestServer server) => server.Port.ToString(CultureInfo.InvariantCulture);

    // ---- MailKit -------------------------------------------------------------------------------------------------

    public static TheoryData<string> MailKitMechanisms => new() { "PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256", "SCRAM-SHA-256-PLUS", "XOAUTH2", "OAUTHBEARER" };

    private static SaslMechanism CreateMechanism(string name, bool wrong)
    {
        var secret = wrong ? "not-the-secret" : Password;
        var token = wrong ? "not-the-token" : Token;
        return name switch
        {
            "PLAIN" => new SaslMechanismPlain(User, secret),
            "LOGIN" => new SaslMechanismLogin(User, secret),
            "CRAM-MD5" => new SaslMechanismCramMd5(User, secret),
            "SCRAM-SHA-256" => new SaslMechanismScramSha256(User, secret),
            "SCRAM-SHA-256-PLUS" => new SaslMechanismScramSha256Plus(User, secret),
            "XOAUTH2" => new SaslMechanismOAuth2(User, token),
            "OAUTHBEARER" => new SaslMechanismOAuthBearer(User, token),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    private static async Task<SmtpClient> ConnectMailKitAsync(TestServer server, MemoryStream? transcript = null)
    {
        var logger = transcript is null ? (MailKit.IProtocolLogger)new MailKit.NullProtocolLogger() : new MailKit.ProtocolLogger(transcript, leaveOpen: true);
        var client = new SmtpClient(logger) { LocalDomain = "mailkit.test", Timeout = 10_000, CheckCertificateRevocation = false };
        client.ServerCertificateValidationCallback = (_, certificate, _, _) => TestCertificates.ValidateAgainstCa(certificate, "mx.test");

        // Our own socket, so MailKit sends SNI "mx.test" (and names it in OAUTHBEARER) while the TCP peer is 127.0.0.1.
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.EndPoint);
        await client.ConnectAsync(socket, "mx.test", server.Port, SecureSocketOptions.StartTls);
        client.IsSecure.Should().BeTrue();
        return client;
    }

    private static MimeMessage NewMessage(string subject)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("a@c.test"));
        message.To.Add(MailboxAddress.Parse("b@s.test"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "Authenticated.\r\n" };
        return message;
    }

    [Theory]
    [MemberData(nameof(MailKitMechanisms))]
    public async Task MailKit_authenticates_with_each_mechanism_after_a_wrong_secret(string mechanism)
    {
        var users = NewUsers();
        var store = new SessionRecorder();

        // On TLS 1.3 -PLUS is offered only when opted in; MailKit binds with tls-server-end-point, which the server checks.
        await using var server = await StartAsync(users, store, scramPlusOnTls13: mechanism == "SCRAM-SHA-256-PLUS");
        using var transcript = new MemoryStream();
        using var client = await ConnectMailKitAsync(server, transcript);
        client.AuthenticationMechanisms.Should().Contain(mechanism);

        var wrong = async () => await client.AuthenticateAsync(CreateMechanism(mechanism, wrong: true));
        (await wrong.Should().ThrowAsync<AuthenticationException>()).Which.Message.Should().StartWith("535", System.Text.Encoding.UTF8.GetString(transcript.ToArray()));
        client.IsConnected.Should().BeTrue("one failure does not drop the connection");

        var sasl = CreateMechanism(mechanism, wrong: false);
        await client.AuthenticateAsync(sasl);
        client.IsAuthenticated.Should().BeTrue();
        if (mechanism == "SCRAM-SHA-256-PLUS")
        {
            // MailKit reads tls-server-end-point from its SslStream (TransportContext.GetChannelBinding, which .NET
            // implements on Linux over OpenSSL) and the server checked it against its own certificate.
            sasl.NegotiatedChannelBinding.Should().BeTrue();
        }

        await client.SendAsync(NewMessage("MailKit " + mechanism));
        await client.DisconnectAsync(quit: true);

        var facts = store.Snapshots.Should().ContainSingle().Subject;
        facts.Identity.Should().Be(User);
        facts.Mechanism.Should().Be(mechanism);
        facts.ProtocolName.Should().Be("ESMTPSA");
        facts.Content.Should().Contain("Subject: MailKit " + mechanism);
    }

    [Theory]
    [InlineData(SslProtocols.Tls12, false, "SCRAM-SHA-256-PLUS")]
    [InlineData(SslProtocols.Tls13, false, "SCRAM-SHA-256")]
    [InlineData(SslProtocols.Tls13, true, "SCRAM-SHA-256-PLUS")]
    public async Task MailKit_credentials_overload_picks_the_strongest_mechanism(SslProtocols protocol, bool scramPlusOnTls13, string expected)
    {
        var users = NewUsers();
        var store = new SessionRecorder();
        await using var server = await StartAsync(users, store, scramPlusOnTls13, protocol);
        using var client = await ConnectMailKitAsync(server);

        await client.AuthenticateAsync(new NetworkCredential(User, Password));
        await client.SendAsync(NewMessage("MailKit credentials"));
        await client.DisconnectAsync(quit: true);

        store.Snapshots.Single().Mechanism.Should().Be(expected, "MailKit ranks SCRAM-SHA-256-PLUS first, and takes SCRAM-SHA-256 where -PLUS is not offered");
    }

    [Fact]
    public async Task MailKit_without_authentication_is_refused_by_require_authentication()
    {
        var users = NewUsers();
        var store = new SessionRecorder();
        await using var server = await StartAsync(users, store);
        using var client = await ConnectMailKitAsync(server);

        // MailKit turns the 530 to MAIL into ServiceNotAuthenticatedException.
        var send = async () => await client.SendAsync(NewMessage("not authenticated"));
        (await send.Should().ThrowAsync<MailKit.ServiceNotAuthenticatedException>()).Which.Message.Should().Be("5.7.0 Authentication required");
        store.Snapshots.Should().BeEmpty();
    }

    // ---- System.Net.Mail -----------------------------------------------------------------------------------------

    [Fact]
    public async Task SystemNetMail_authenticates_with_login_over_starttls()
    {
        var users = NewUsers();
        var store = new SessionRecorder();
        await using var server = await StartAsync(users, store);

        // A refused LOGIN is not an error to System.Net.Mail: it goes on without AUTH, and MAIL gets the 530 of
        // RequireAuthentication.
        var wrongPassword = Record(() => SendWithSystemNetMail(server, "not-the-secret"));
        SendWithSystemNetMail(server, Password);

        wrongPassword.Should().NotBeNull();
        wrongPassword!.StatusCode.Should().Be((System.Net.Mail.SmtpStatusCode)530);
        wrongPassword.Message.Should().Contain("5.7.0 Authentication required");
        var facts = store.Snapshots.Should().ContainSingle().Subject;
        facts.Identity.Should().Be(User);
        facts.Mechanism.Should().Be("LOGIN", "System.Net.Mail speaks LOGIN (and NTLM/GSSAPI, which are not offered)");
        facts.ProtocolName.Should().Be("ESMTPSA");
        facts.Content.Should().Contain("System.Net.Mail with credentials");
        users.PasswordUsers.Should().Equal(User, User);
    }

    private static System.Net.Mail.SmtpException? Record(Action action)
    {
        try
        {
            action();
            return null;
        }
        catch (System.Net.Mail.SmtpException ex) when (ex.InnerException is not System.Security.Authentication.AuthenticationException)
        {
            return ex;
        }
    }

    /// <summary>System.Net.Mail validates the server only through the process-wide callback, set here through <see cref="ServicePointCallback"/>.</summary>
    private static void SendWithSystemNetMail(TestServer server, string password)
        => ServicePointCallback.With(certificate => TestCertificates.ValidateAgainstCa(certificate, "mx.test"), () =>
        {
#pragma warning disable CS0618 // System.Net.Mail.SmtpClient is obsolete; it is the client under test.
            using var client = new System.Net.Mail.SmtpClient("127.0.0.1", server.Port)
            {
                EnableSsl = true,
                UseDefaultCredentials = false,
                Credentials = new NetworkCredential(User, password),
                Timeout = 10_000,
            };
#pragma warning restore CS0618
            using var message = new System.Net.Mail.MailMessage("a@c.test", "b@s.test", "System.Net.Mail with credentials", "body");
            client.Send(message);
        });

    // ---- swaks ---------------------------------------------------------------------------------------------------

    private Task<CliResult> RunSwaksAsync(TestServer server, string mechanism, string password, string subject) => CliTool.RunAsync("swaks",
    [
        "--server", "127.0.0.1", "--port", Port(server), "--from", "a@c.test", "--to", "b@s.test", "--helo", "swaks.test",
        "--tls", "--tls-verify", "--tls-ca-path", CaPath, "--tls-sni", "mx.test",
        "--auth", mechanism, "--auth-user", User, "--auth-password", password,
        "--header", "Subject: " + subject, "--timeout", "10",
    ]);

    [SkippableTheory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    [InlineData("CRAM-MD5")]
    public async Task Swaks_authenticates_over_starttls(string mechanism)
    {
        var users = NewUsers();
        var store = new SessionRecorder();
        await using var server = await StartAsync(users, store);

        var wrong = await RunSwaksAsync(server, mechanism, "not-the-secret", "wrong");
        wrong.ExitCode.Should().Be(28, "swaks exits 28 on an authentication failure: " + wrong);
        wrong.StandardOutput.Should().Contain("535 5.7.8");

        var result = await RunSwaksAsync(server, mechanism, Password, "swaks " + mechanism);
        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardOutput.Should().Contain("=== TLS started").And.Contain("AUTH " + mechanism).And.Contain("235 2.7.0");

        var facts = store.Snapshots.Should().ContainSingle(result.ToString()).Subject;
        facts.Identity.Should().Be(User);
        facts.Mechanism.Should().Be(mechanism);
        facts.ProtocolName.Should().Be("ESMTPSA");
        facts.Content.Should().Contain("Subject: swaks " + mechanism);
    }

    // ---- Python smtplib ------------------------------------------------------------------------------------------

    private const string PythonScript = """
        import smtplib, ssl, sys
        port, cafile = int(sys.argv[1]), sys.argv[2]
        ctx = ssl.create_default_context(cafile=cafile)

        def session():
            s = smtplib.SMTP(local_hostname="python.test", timeout=10)
            s.connect("127.0.0.1", port)
            s._host = "mx.test"  # the name to verify and send as SNI; the TCP peer stays 127.0.0.1
            s.ehlo()
            code, _ = s.starttls(context=ctx)
            assert code == 220, code
            s.ehlo()
            assert s.has_extn("auth"), s.esmtp_features
            return s

        def send(s, subject):
            msg = "From: a@c.test\r\nTo: b@s.test\r\nSubject: " + subject + "\r\n\r\nhello\r\n"
            assert s.sendmail("a@c.test", ["b@s.test"], msg) == {}
            s.quit()

        # login() with a wrong password tries every mechanism it knows that is offered (CRAM-MD5, PLAIN, LOGIN):
        # three failures, so the server answers the third with 535 then 421 and closes (MaxFailures = 3).
        s = session()
        try:
            s.login("alice", "not-the-secret")
            raise SystemExit("login with a wrong password succeeded")
        except smtplib.SMTPAuthenticationError as e:
            assert e.smtp_code == 535, e
            print("wrong password:", e.smtp_code, e.smtp_error)
        # The 421 that followed the third 535 is still unread; the next command's reply is that 421.
        code, msg = s.noop()
        assert code == 421, (code, msg)
        print("after three failures:", code, msg)

        # login(): the standard call; it prefers CRAM-MD5 when offered.
        s = session()
        code, _ = s.login("alice", "secret")
        assert code == 235, code
        send(s, "smtplib login")

        # Each mechanism smtplib implements, explicitly.
        for mech in ("PLAIN", "LOGIN", "CRAM-MD5"):
            s = session()
            s.user, s.password = "alice", "secret"
            method = {"PLAIN": s.auth_plain, "LOGIN": s.auth_login, "CRAM-MD5": s.auth_cram_md5}[mech]
            code, _ = s.auth(mech, method)
            assert code == 235, (mech, code)
            send(s, "smtplib " + mech)
        print("ok")
        """;

    [SkippableFact]
    public async Task Python_smtplib_starttls_then_login()
    {
        var users = NewUsers();
        var store = new SessionRecorder();
        await using var server = await StartAsync(users, store);

        var result = await CliTool.RunAsync("python3", ["-c", PythonScript, Port(server), CaPath]);

        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardOutput.Should().Contain("wrong password: 535").And.Contain("after three failures: 421 b'4.7.0").And.Contain("ok");
        users.PasswordUsers.Should().HaveCount(4, "PLAIN and LOGIN of the wrong login(), then PLAIN and LOGIN explicitly");
        store.Snapshots.Select(x => (x.Identity, x.Mechanism, x.ProtocolName)).Should().Equal(
            (User, "CRAM-MD5", "ESMTPSA"),
            (User, "PLAIN", "ESMTPSA"),
            (User, "LOGIN", "ESMTPSA"),
            (User, "CRAM-MD5", "ESMTPSA"));
    }
}
