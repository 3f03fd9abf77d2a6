using System.Security.Authentication;
using Microsoft.Extensions.Options;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>TLS configuration mistakes fail when the server is created, never at the first handshake.</summary>
public sealed class TlsOptionsValidationTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "starttls-options-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static SmtpServerOptions Options(Action<SmtpServerOptions> configure)
    {
        var options = new SmtpServerOptions { ServerName = "mx.test" };
        options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" });
        configure(options);
        return options;
    }

    private static Func<SmtpServer> Create(SmtpServerOptions options) => () => new SmtpServer(options, NullMessageStore.Instance);

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void A_tls_endpoint_without_a_certificate_is_refused(bool implicitTls, bool requireTls)
    {
        var options = Options(o =>
        {
            o.Endpoints[0].ImplicitTls = implicitTls;
            o.Endpoints[0].RequireTls = requireTls;
        });
        Create(options).Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("no certificate is configured");
    }

    [Fact]
    public void Implicit_and_require_tls_together_are_refused()
    {
        var options = Options(o =>
        {
            o.Tls.CertificateSelector = new SniCertificateSelector(new FixedCertificate(TlsTestKit.MxCertificate));
            o.Endpoints[0].ImplicitTls = true;
            o.Endpoints[0].RequireTls = true;
        });
        Create(options).Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("RequireTls");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(301)]
    public void A_handshake_timeout_out_of_range_is_refused(int seconds)
    {
        var options = Options(o => o.Tls.HandshakeTimeout = TimeSpan.FromSeconds(seconds));
        Create(options).Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("HandshakeTimeout");
    }

    [Fact]
    public void Tls_1_1_and_older_cannot_be_enabled()
    {
#pragma warning disable SYSLIB0039, CA5397 // The obsolete versions are the point of the test.
        var options = Options(o => o.Tls.EnabledProtocols = SslProtocols.Tls11 | SslProtocols.Tls12);
#pragma warning restore SYSLIB0039, CA5397
        Create(options).Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("EnabledProtocols");
    }

    [Fact]
    public void An_sni_entry_without_a_path_is_refused()
    {
        var options = Options(o => o.Tls.SniCertificates.Add(new SniCertificateOptions { ServerName = "mx.test" }));
        Create(options).Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("SniCertificates");
    }

    [Fact]
    public void A_missing_pem_file_fails_the_constructor()
    {
        var options = Options(o =>
        {
            o.Tls.CertificatePath = Path.Combine(_dir, "missing.crt");
            o.Tls.KeyPath = Path.Combine(_dir, "missing.key");
        });
        Create(options).Should().Throw<Exception>().Which.Should().BeAssignableTo<IOException>();
    }

    [Fact]
    public void A_missing_sni_pem_file_fails_the_constructor()
    {
        var (crt, key) = TestCertificates.WritePem(TlsTestKit.MxCertificate, _dir, "mx");
        var options = Options(o =>
        {
            o.Tls.CertificatePath = crt;
            o.Tls.KeyPath = key;
            o.Tls.SniCertificates.Add(new SniCertificateOptions { ServerName = "other.test", CertificatePath = Path.Combine(_dir, "other.crt") });
        });
        Create(options).Should().Throw<IOException>();
    }

    [Fact]
    public void A_key_that_does_not_match_the_certificate_fails_the_constructor()
    {
        var (crt, _) = TestCertificates.WritePem(TestCertificates.IssueServer("mx.test"), _dir, "one");
        var (_, otherKey) = TestCertificates.WritePem(TestCertificates.IssueServer("mx.test"), _dir, "two");
        var options = Options(o =>
        {
            o.Tls.CertificatePath = crt;
            o.Tls.KeyPath = otherKey;
        });
        Create(options).Should().Throw<ArgumentException>().Which.Message.Should().Contain("key does not match");
    }

    [Fact]
    public async Task Valid_pem_files_start_a_server_that_offers_starttls()
    {
        var (crt, key) = TestCertificates.WritePem(TlsTestKit.MxCertificate, _dir, "mx");
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Tls.CertificatePath = crt;
            o.Tls.KeyPath = key;
            o.Endpoints[0].RequireTls = true;
        });
        await using var raw = await server.ConnectAsync();
        (await raw.EhloAsync()).Should().Contain("250-STARTTLS");
    }

    [Fact]
    public void A_certificate_without_its_private_key_is_refused_by_FixedCertificate()
    {
        var publicOnly = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(TlsTestKit.MxCertificate.RawData);
        var create = () => new FixedCertificate(publicOnly);
        create.Should().Throw<ArgumentException>();
    }
}
