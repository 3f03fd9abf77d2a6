using StartTls.Smtp.Server;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Samples;

public sealed class TlsAndAuthFlagsTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "starttls-flags-" + Guid.NewGuid().ToString("N"));
    private readonly string _cert;
    private readonly string _key;

    public TlsAndAuthFlagsTests()
    {
        (_cert, _key) = TestCertificates.WritePem(TestCertificates.IssueServer("mx.test"), _directory, "mx");
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Tls_and_auth_flags_are_parsed_and_applied()
    {
        var result = CommandLineOptions.Parse([
            "--listen", "127.0.0.1:2587", "--implicit-tls", "127.0.0.1:2465", "--implicit-tls", "[::1]:2465",
            "--cert", _cert, "--key", _key, "--sni", $"mail.test={_cert},{_key}", "--sni", $"*.example.test={_cert}",
            "--require-tls", "--user", "alice:se:cret", "--user", "bob:pw", "--require-auth", "--allow-insecure-auth"]);
        result.Error.Should().BeNull();
        var flags = result.Options!;
        flags.Users.Select(u => (u.UserName, u.Password)).Should().Equal(("alice", "se:cret"), ("bob", "pw"));
        flags.Users[0].ToString().Should().NotContain("cret");
        flags.NeedsDevelopmentCertificate.Should().BeFalse();

        var options = new SmtpServerOptions();
        flags.ApplyTo(options);
        options.Endpoints.Select(e => (e.Address, e.ImplicitTls, e.RequireTls)).Should().Equal(
            ("127.0.0.1:2587", false, true), ("127.0.0.1:2465", true, false), ("[::1]:2465", true, false));
        options.Tls.CertificatePath.Should().Be(_cert);
        options.Tls.KeyPath.Should().Be(_key);
        options.Tls.SniCertificates.Select(s => (s.ServerName, s.CertificatePath, s.KeyPath)).Should().Equal(
            ("mail.test", _cert, _key), ("*.example.test", _cert, null));
        options.Authentication.RequireAuthentication.Should().BeTrue();
        options.Authentication.AllowInsecureAuthentication.Should().BeTrue();
    }

    [Fact]
    public void Without_a_certificate_the_sample_wants_a_development_certificate()
    {
        CommandLineOptions.Parse([]).Options!.NeedsDevelopmentCertificate.Should().BeTrue();
        CommandLineOptions.Parse(["--no-tls"]).Options!.NeedsDevelopmentCertificate.Should().BeFalse();
    }

    [Theory]
    [InlineData("--cert", "/no/such/file.pem")]
    [InlineData("--key", "k.pem")]
    [InlineData("--sni", "mail.test")]
    [InlineData("--sni", "=a,b")]
    [InlineData("--user", "alice")]
    [InlineData("--user", ":pw")]
    [InlineData("--require-auth")]
    [InlineData("--allow-insecure-auth")]
    [InlineData("--no-tls", "--require-tls")]
    [InlineData("--implicit-tls", "nonsense")]
    [InlineData("--require-tls=yes")]
    public void Bad_tls_and_auth_flags_are_errors(params string[] args)
        => CommandLineOptions.Parse(args).Error.Should().NotBeNullOrEmpty();

    [Fact]
    public void Development_certificate_is_created_once_and_reused()
    {
        var dir = Path.Combine(_directory, ".dev-certs");
        var (cert, key) = DevelopmentCertificate.Ensure(dir, out var created);
        created.Should().BeTrue();
        var first = File.ReadAllText(cert);
        DevelopmentCertificate.Ensure(dir, out var createdAgain);
        createdAgain.Should().BeFalse();
        File.ReadAllText(cert).Should().Be(first);
        using var loaded = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(cert, key);
        loaded.MatchesHostname("localhost").Should().BeTrue();
        System.Security.Cryptography.X509Certificates.ECDsaCertificateExtensions.GetECDsaPublicKey(loaded).Should().NotBeNull();
    }
}
