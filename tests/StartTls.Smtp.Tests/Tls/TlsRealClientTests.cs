using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// Real clients over STARTTLS and implicit TLS, each validating the server certificate against the test CA: MailKit,
/// System.Net.Mail, swaks, Python's smtplib, and openssl s_client for SNI certificate selection.
/// </summary>
public sealed class TlsRealClientTests : IDisposable
{
    private readonly ClientCaDirectory _ca = new();

    private string CaPath => _ca.CaPath;

    public void Dispose() => _ca.Dispose();

    /// <summary>A plaintext/STARTTLS endpoint (index 0) and an implicit-TLS endpoint (index 1).</summary>
    private static Task<TestServer> StartAsync(SessionRecorder store) => TestServer.StartAsync(TlsTestKit.WithCertificate(o =>
        o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0", ImplicitTls = true })), store);

    private static string Port(TestServer server, int index) => server.Server.ListeningEndPoints[index].Port.ToString(CultureInfo.InvariantCulture);

    private static MimeMessage NewMessage(string subject)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("a@c.test"));
        message.To.Add(MailboxAddress.Parse("b@s.test"));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = "Sent over TLS.\r\n" };
        return message;
    }

    [Theory]
    [InlineData(SecureSocketOptions.StartTls, 0, false)]
    [InlineData(SecureSocketOptions.SslOnConnect, 1, true)]
    public async Task MailKit_delivers_over_tls_validating_against_the_test_ca(SecureSocketOptions security, int endpoint, bool isImplicit)
    {
        var store = new SessionRecorder();
        await using var server = await StartAsync(store);
        using var transcript = new MemoryStream();
        using var client = new SmtpClient(new MailKit.ProtocolLogger(transcript, leaveOpen: true)) { LocalDomain = "mailkit.test", Timeout = 10_000 };
        client.ServerCertificateValidationCallback = (_, certificate, _, _) => TestCertificates.ValidateAgainstCa(certificate, "mx.test");

        // Connect the socket ourselves so that MailKit sends SNI "mx.test" while the TCP peer is 127.0.0.1.
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(server.Server.ListeningEndPoints[endpoint]);
        await client.ConnectAsync(socket, "mx.test", server.Server.ListeningEndPoints[endpoint].Port, security);
        client.IsSecure.Should().BeTrue();
        var protocol = client.SslProtocol;
        await client.SendAsync(NewMessage("MailKit " + security));
        await client.DisconnectAsync(quit: true);

        var log = System.Text.Encoding.ASCII.GetString(transcript.ToArray());
        var starttls = log.IndexOf("C: STARTTLS", StringComparison.Ordinal);
        (starttls >= 0).Should().Be(!isImplicit, log);
        var insideTls = isImplicit ? log : log[starttls..];
        insideTls.Should().Contain("C: EHLO mailkit.test", log);
        insideTls.Should().NotMatchRegex("S: 250[ -]STARTTLS", "the EHLO reply inside TLS does not offer STARTTLS: " + log);
        if (!isImplicit)
        {
            log[..starttls].Should().MatchRegex("S: 250[ -]STARTTLS", log);
        }

        var facts = store.Snapshots.Should().ContainSingle().Subject;
        facts.ProtocolName.Should().Be("ESMTPS");
        facts.HeloName.Should().Be("mailkit.test");
        facts.Tls!.ServerName.Should().Be("mx.test");
        facts.Tls.IsImplicit.Should().Be(isImplicit);
        facts.Tls.Protocol.Should().Be(protocol);
        MailKitHarness.Parse(store.Inner.Messages.Single()).Subject.Should().Be("MailKit " + security);
    }

    [Fact]
    public async Task MailKit_rejects_the_server_when_the_certificate_does_not_match_the_name()
    {
        var store = new SessionRecorder();
        await using var server = await StartAsync(store);
        using var client = new SmtpClient { Timeout = 10_000 };
        client.ServerCertificateValidationCallback = (_, certificate, _, _) => TestCertificates.ValidateAgainstCa(certificate, "other.test");
        var connect = () => client.ConnectAsync("127.0.0.1", server.Server.ListeningEndPoints[0].Port, SecureSocketOptions.StartTls);
        await connect.Should().ThrowAsync<SslHandshakeException>();
        store.Inner.Count.Should().Be(0);
    }

    [Fact]
    public async Task SystemNetMail_with_enable_ssl_uses_starttls()
    {
        // System.Net.Mail has no per-client validation callback: it takes ServicePointManager's (global, obsolete).
        var store = new SessionRecorder();
        await using var server = await StartAsync(store);
        var validations = 0;
        ServicePointCallback.With(
            certificate =>
            {
                validations++;
                return TestCertificates.ValidateAgainstCa(certificate, "mx.test");
            },
            () =>
            {
#pragma warning disable CS0618 // System.Net.Mail.SmtpClient is obsolete; it is the client under test.
                using var client = new System.Net.Mail.SmtpClient("127.0.0.1", server.Server.ListeningEndPoints[0].Port)
                {
                    EnableSsl = true,
                    UseDefaultCredentials = false,
                    Timeout = 10_000,
                };
#pragma warning restore CS0618
                client.Send(new System.Net.Mail.MailMessage("a@c.test", "b@s.test", "System.Net.Mail over STARTTLS", "body"));
            });

        validations.Should().Be(1, "the server certificate was checked against the test CA by our callback");
        var facts = store.Snapshots.Should().ContainSingle().Subject;
        facts.ProtocolName.Should().Be("ESMTPS");
        facts.Tls.Should().NotBeNull();
        MailKitHarness.Parse(store.Inner.Messages.Single()).Subject.Should().Be("System.Net.Mail over STARTTLS");
    }


    [SkippableFact]
    public async Task Swaks_tls_delivers_over_starttls_and_verifies_the_chain()
    {
        var store = new SessionRecorder();
        await using var server = await StartAsync(store);
        var result = await CliTool.RunAsync("swaks",
        [
            "--server", "127.0.0.1", "--port", Port(server, 0), "--from", "a@c.test", "--to", "b@s.test", "--helo", "swaks.test",
            "--tls", "--tls-verify", "--tls-ca-path", CaPath, "--tls-sni", "mx.test", "--header", "Subject: swaks --tls", "--timeout", "10",
        ]);

        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardOutput.Should().Contain("-> STARTTLS").And.Contain("<-  220 2.0.0 Ready to start TLS").And.Contain("=== TLS started");
        var facts = store.Snapshots.Should().ContainSingle(result.ToString()).Subject;
        facts.ProtocolName.Should().Be("ESMTPS");
        facts.HeloName.Should().Be("swaks.test");
        facts.Tls!.ServerName.Should().Be("mx.test");
        facts.Tls.IsImplicit.Should().BeFalse();
    }

    [SkippableFact]
    public async Task Swaks_tlsc_delivers_over_implicit_tls_and_verifies_the_chain()
    {
        var store = new SessionRecorder();
        await using var server = await StartAsync(store);
        var result = await CliTool.RunAsync("swaks",
        [
            "--server", "127.0.0.1", "--port", Port(server, 1), "--from", "a@c.test", "--to", "b@s.test", "--helo", "swaks.test",
            "--tlsc", "--tls-verify", "--tls-ca-path", CaPath, "--tls-sni", "mx.test", "--timeout", "10",
        ]);

        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardOutput.Should().Contain("=== TLS started").And.NotContain("STARTTLS");
        var facts = store.Snapshots.Should().ContainSingle(result.ToString()).Subject;
        facts.Tls!.IsImplicit.Should().BeTrue();
        facts.Tls.ServerName.Should().Be("mx.test");
    }

    [SkippableFact]
    public async Task Swaks_tls_verify_fails_against_a_server_whose_ca_it_does_not_trust()
    {
        var store = new SessionRecorder();
        await using var server = await StartAsync(store);
        var otherCa = Path.Combine(_ca.Path, "other-ca.pem");
        using (var key = System.Security.Cryptography.ECDsa.Create())
        {
            var request = new CertificateRequest("CN=Other CA", key, System.Security.Cryptography.HashAlgorithmName.SHA256);
            request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
            using var other = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
            await File.WriteAllTextAsync(otherCa, other.ExportCertificatePem() + "\n");
        }

        var result = await CliTool.RunAsync("swaks",
        [
            "--server", "127.0.0.1", "--port", Port(server, 0), "--from", "a@c.test", "--to", "b@s.test",
            "--tls", "--tls-verify", "--tls-ca-path", otherCa, "--timeout", "10",
        ]);

        result.ExitCode.Should().NotBe(0, result.ToString());
        store.Inner.Count.Should().Be(0);
    }

    private const string PythonScript = """
        import smtplib, ssl, sys
        mode, port, cafile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
        ctx = ssl.create_default_context(cafile=cafile)
        assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
        msg = "From: a@c.test\r\nTo: b@s.test\r\nSubject: smtplib " + mode + "\r\n\r\nhello\r\n"
        if mode == "starttls":
            s = smtplib.SMTP(local_hostname="python.test", timeout=10)
            s.connect("127.0.0.1", port)
            s._host = "mx.test"  # the name to verify and send as SNI; the TCP peer stays 127.0.0.1
            s.ehlo()
            assert s.has_extn("starttls"), s.esmtp_features
            code, reply = s.starttls(context=ctx)
            assert code == 220, (code, reply)
            s.ehlo()
            assert not s.has_extn("starttls"), s.esmtp_features
        else:
            class SMTP_SSL_To(smtplib.SMTP_SSL):
                def _get_socket(self, host, port, timeout):
                    self._host = "mx.test"
                    return super()._get_socket(host, port, timeout)
            s = SMTP_SSL_To(local_hostname="python.test", timeout=10, context=ctx)
            s.connect("127.0.0.1", port)
            s.ehlo()
            assert not s.has_extn("starttls"), s.esmtp_features
        print("cipher", s.sock.cipher(), s.sock.version())
        assert s.sendmail("a@c.test", ["b@s.test"], msg) == {}
        s.quit()
        print("ok")
        """;

    [SkippableFact]
    public async Task Python_smtplib_starttls_and_smtp_ssl_deliver_validating_against_the_test_ca()
    {
        var store = new SessionRecorder();
        await using var server = await StartAsync(store);

        var starttls = await CliTool.RunAsync("python3", ["-c", PythonScript, "starttls", Port(server, 0), CaPath]);
        starttls.ExitCode.Should().Be(0, starttls.ToString());
        starttls.StandardOutput.Should().Contain("ok");

        var implicitTls = await CliTool.RunAsync("python3", ["-c", PythonScript, "ssl", Port(server, 1), CaPath]);
        implicitTls.ExitCode.Should().Be(0, implicitTls.ToString());
        implicitTls.StandardOutput.Should().Contain("ok");

        store.Snapshots.Select(s => (s.ProtocolName, s.HeloName, s.Tls!.ServerName, s.Tls.IsImplicit)).Should().Equal(
            ("ESMTPS", "python.test", "mx.test", false),
            ("ESMTPS", "python.test", "mx.test", true));
        store.Inner.Messages.Select(m => MailKitHarness.Parse(m).Subject).Should().Equal("smtplib starttls", "smtplib ssl");
    }

    [SkippableFact]
    public async Task Python_smtplib_starttls_refuses_a_certificate_for_another_name()
    {
        var store = new SessionRecorder();
        await using var server = await StartAsync(store);
        var script = PythonScript.Replace("s._host = \"mx.test\"", "s._host = \"wrong.test\"", StringComparison.Ordinal);
        var result = await CliTool.RunAsync("python3", ["-c", script, "starttls", Port(server, 0), CaPath]);
        result.ExitCode.Should().NotBe(0, result.ToString());
        result.StandardError.Should().Contain("CERTIFICATE_VERIFY_FAILED");
        store.Inner.Count.Should().Be(0);
    }

    [SkippableFact]
    public async Task OpenSsl_s_client_sees_the_certificate_chosen_for_each_sni_name()
    {
        var defaultCert = TestCertificates.IssueServer("default.test");
        var exact = TestCertificates.IssueServer("mail.example.test");
        var wildcard = TestCertificates.IssueServer("*.wild.test");
        var special = TestCertificates.IssueServer("special.wild.test");
        var (defaultCrt, defaultKey) = TestCertificates.WritePem(defaultCert, _ca.Path, "default");
        var (exactCrt, exactKey) = TestCertificates.WritePem(exact, _ca.Path, "exact");
        var (wildCrt, wildKey) = TestCertificates.WritePem(wildcard, _ca.Path, "wild");
        var (specialCrt, specialKey) = TestCertificates.WritePem(special, _ca.Path, "special");

        var recorder = new SessionRecorder();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Tls.CertificatePath = defaultCrt;
            o.Tls.KeyPath = defaultKey;
            o.Tls.SniCertificates.Add(new() { ServerName = "mail.example.test", CertificatePath = exactCrt, KeyPath = exactKey });
            o.Tls.SniCertificates.Add(new() { ServerName = "*.wild.test", CertificatePath = wildCrt, KeyPath = wildKey });
            o.Tls.SniCertificates.Add(new() { ServerName = "special.wild.test", CertificatePath = specialCrt, KeyPath = specialKey });
        }, sessionHandler: recorder);

        (string? Sni, X509Certificate2 Expected, string VerifyName)[] cases =
        [
            ("mail.example.test", exact, "mail.example.test"),
            ("MAIL.Example.Test", exact, "mail.example.test"),
            ("x.wild.test", wildcard, "x.wild.test"),
            ("special.wild.test", special, "special.wild.test"),
            ("a.b.wild.test", defaultCert, "default.test"), // a wildcard covers one label only
            ("unknown.test", defaultCert, "default.test"),
            (null, defaultCert, "default.test"),
        ];

        foreach (var (sni, expected, verifyName) in cases)
        {
            string[] nameArgs = sni is null ? ["-noservername"] : ["-servername", sni];
            var result = await CliTool.RunAsync("openssl",
            [
                "s_client", "-starttls", "smtp", "-connect", "127.0.0.1:" + server.Port.ToString(CultureInfo.InvariantCulture),
                .. nameArgs, "-CAfile", CaPath, "-verify_hostname", verifyName, "-verify_return_error",
            ], standardInput: string.Empty);

            var label = sni ?? "(no SNI)";
            result.StandardOutput.Should().Contain("Verify return code: 0 (ok)", label + ": " + result);
            var presented = X509Certificate2.CreateFromPem(ExtractFirstPem(result.StandardOutput));
            presented.Thumbprint.Should().Be(expected.Thumbprint, label + " should get " + expected.Subject + ", got " + presented.Subject);
        }

        await recorder.WaitForCloseAsync(cases.Length);
        recorder.Closed.Select(s => s.Tls?.ServerName).Should().BeEquivalentTo(cases.Select(c => c.Sni));
    }

    private static string ExtractFirstPem(string text)
    {
        const string begin = "-----BEGIN CERTIFICATE-----";
        const string end = "-----END CERTIFICATE-----";
        var start = text.IndexOf(begin, StringComparison.Ordinal);
        start.Should().BeGreaterThanOrEqualTo(0, "s_client printed the server certificate: " + text);
        var stop = text.IndexOf(end, start, StringComparison.Ordinal) + end.Length;
        return text[start..stop];
    }
}
