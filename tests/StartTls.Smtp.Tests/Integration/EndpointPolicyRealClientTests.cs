using System.Globalization;
using StartTls.Smtp.Tests.Authentication;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tests.Samples;

namespace StartTls.Smtp.Tests.Integration;

/// <summary>
/// swaks against one server with an MX endpoint (no AUTH) and a submission endpoint (STARTTLS, then AUTH before MAIL),
/// in the library and in the sample server started with <c>--submission</c>.
/// </summary>
public sealed class EndpointPolicyRealClientTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private readonly ClientCaDirectory _ca = new();

    public void Dispose() => _ca.Dispose();

    private Task<CliResult> RunSwaksAsync(int port, string subject, params string[] extra) => CliTool.RunAsync("swaks",
    [
        "--server", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--from", "a@c.test", "--to", "b@s.test",
        "--helo", "swaks.test", "--header", "Subject: " + subject, "--timeout", "10", .. extra,
    ], timeout: TimeSpan.FromSeconds(20));

    private string[] Tls() => ["--tls", "--tls-verify", "--tls-ca-path", _ca.CaPath, "--tls-sni", "mx.test"];

    private static string[] Auth(string password) => ["--auth", "PLAIN", "--auth-user", AuthTestKit.User, "--auth-password", password];

    [SkippableFact(Timeout = 60_000)]
    public async Task Swaks_submits_with_tls_and_auth_on_the_submission_endpoint_and_is_refused_without_auth()
    {
        await using var server = await TestServer.StartAsync(AuthTestKit.TlsServer(AuthTestKit.NewUsers()) + (o =>
        {
            o.Endpoints[0].Name = "mx";
            o.Endpoints[0].OfferAuthentication = false;
            o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0", Name = "submission", RequireTls = true, RequireAuthentication = true });
        }));
        var mx = server.Server.ListeningEndPoints[0].Port;
        var submission = server.Server.ListeningEndPoints[1].Port;

        var refused = await RunSwaksAsync(submission, "no auth", Tls());
        refused.ExitCode.Should().NotBe(0, refused.ToString());
        refused.StandardOutput.Should().Contain("530 5.7.0 Authentication required");

        var plaintext = await RunSwaksAsync(submission, "no tls", Auth(AuthTestKit.Password));
        plaintext.ExitCode.Should().NotBe(0, plaintext.ToString());
        server.Messages.Count.Should().Be(0);

        var submitted = await RunSwaksAsync(submission, "submitted", [.. Tls(), .. Auth(AuthTestKit.Password)]);
        submitted.ExitCode.Should().Be(0, submitted.ToString());

        var relayed = await RunSwaksAsync(mx, "mx", Tls());
        relayed.ExitCode.Should().Be(0, relayed.ToString());
        relayed.StandardOutput.Should().NotContain("AUTH PLAIN", "the MX endpoint offers no AUTH");

        server.Messages.Messages.Select(m => m.GetContentAsString().Contains("Subject: submitted", StringComparison.Ordinal)).Should().Equal(true, false);
    }

    [SkippableFact(Timeout = 90_000)]
    public async Task The_sample_with_submission_and_user_takes_mail_from_swaks_after_starttls_and_auth()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "the sample is stopped with SIGTERM");
        var work = Directory.CreateTempSubdirectory("starttls-submission-");
        var maildir = Path.Combine(work.FullName, "mail");
        var (cert, key) = TestCertificates.WritePem(TestCertificates.IssueServer("mx.test"), work.FullName, "mx");
        var mx = SampleServerProcessTests.FreePort();
        var submission = SampleServerProcessTests.FreePort();
        using var sample = SampleServerProcessTests.SampleProcess.Start(work.FullName, "--listen", $"127.0.0.1:{mx}", "--submission", $"127.0.0.1:{submission}",
            "--user", $"{AuthTestKit.User}:{AuthTestKit.Password}", "--cert", cert, "--key", key, "--maildir", maildir, "--hostname", "mx.test");
        try
        {
            await sample.WaitForLineAsync(l => l.Contains($"listening on 127.0.0.1:{submission}", StringComparison.Ordinal), StartTimeout);

            var refused = await RunSwaksAsync(submission, "no auth", Tls());
            refused.StandardOutput.Should().Contain("530 5.7.0 Authentication required", refused.ToString());

            var submitted = await RunSwaksAsync(submission, "via sample submission", [.. Tls(), .. Auth(AuthTestKit.Password)]);
            submitted.ExitCode.Should().Be(0, submitted.ToString());

            var files = Directory.GetFiles(Path.Combine(maildir, "new"));
            files.Should().ContainSingle();
            (await File.ReadAllTextAsync(files[0])).Should().Contain("Subject: via sample submission").And.Contain("with ESMTPSA");

            sample.SendSigterm();
            (await sample.WaitForExitAsync(TimeSpan.FromSeconds(15))).Should().BeTrue(sample.Output);
            sample.ExitCode.Should().Be(0, sample.Output);
        }
        finally
        {
            sample.KillIfRunning();
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task The_sample_refuses_submission_without_user_with_exit_code_2()
    {
        var work = Directory.CreateTempSubdirectory("starttls-submission-");
        try
        {
            using var sample = SampleServerProcessTests.SampleProcess.Start(work.FullName, "--submission", "127.0.0.1:2587");
            (await sample.WaitForExitAsync(StartTimeout)).Should().BeTrue();
            sample.ExitCode.Should().Be(2);
            sample.Output.Should().Contain("--submission and --submissions require authentication: give at least one --user");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
