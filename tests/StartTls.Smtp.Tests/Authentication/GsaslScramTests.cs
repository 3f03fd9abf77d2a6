using System.Globalization;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tls;
using static StartTls.Smtp.Tests.Authentication.AuthTestKit;

namespace StartTls.Smtp.Tests.Authentication;

/// <summary>
/// SCRAM with GNU SASL clients over STARTTLS, TLS 1.2 and TLS 1.3 forced on the server, the certificate checked against
/// the test CA: the <c>gsasl</c> command-line client (GNU SASL 2.x) and mutt, which does its SASL through the same library.
/// </summary>
/// <remarks>
/// <para>
/// What the client does, from libgsasl's SCRAM code: with binding data from its TLS session (the CLI reads tls-unique on
/// TLS 1.2 and tls-exporter on TLS 1.3 unless <c>--no-cb</c>) it picks SCRAM-SHA-256-PLUS when offered. Without binding
/// data it picks SCRAM-SHA-256 when -PLUS is not offered and sends the <c>n</c> flag; mutt and neomutt never give libgsasl
/// binding data, so <c>--no-cb</c> is how they behave.
/// </para>
/// <para>
/// gsasl 2.2.0 cannot run plain SCRAM-SHA-256 while it holds binding data: it builds a client-first with the <c>y</c> flag
/// and a binding name, which its own validator refuses ("mechanism error: Error authenticating user", before a byte of
/// client-first is sent). So the plain-SCRAM cases run with <c>--no-cb</c>; the server's handling of <c>y</c> is covered
/// on the wire by AuthExchangeTests.
/// </para>
/// </remarks>
public sealed class GsaslScramTests : IDisposable
{
    /// <summary>gsasl checks the certificate against the host it connects to, so this one also names 127.0.0.1.</summary>
    private static readonly Lazy<X509Certificate2> Certificate = new(() => TestCertificates.IssueServer("mx.test", "127.0.0.1"));

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "starttls-gsasl-" + Guid.NewGuid().ToString("N"));
    private readonly string _caPath;

    public GsaslScramTests()
    {
        Directory.CreateDirectory(_dir);
        _caPath = Path.Combine(_dir, "ca.pem");
        File.WriteAllText(_caPath, TestCertificates.Ca.ExportCertificatePem() + "\n");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<TestServer> StartAsync(SslProtocols protocol, CountingThrottle throttle, bool scramPlusOnTls13 = false, bool withoutPlus = false,
        SessionRecorder? store = null)
        => TestServer.StartAsync(TlsServer(NewUsers(), a =>
        {
            a.Throttle = throttle;
            a.AdvertiseScramPlusOnTls13 = scramPlusOnTls13;
            if (withoutPlus)
            {
                a.Mechanisms.Remove(SaslMechanisms.ScramSha256Plus);
            }
        }) + (o =>
        {
            o.Tls.CertificateSelector = new SniCertificateSelector(new FixedCertificate(Certificate.Value));
            o.Tls.EnabledProtocols = protocol;
        }), store);

    private Task<CliResult> RunGsaslAsync(TestServer server, params string[] more) => CliTool.RunAsync("gsasl",
    [
        "--smtp", "--connect", "127.0.0.1:" + server.Port.ToString(CultureInfo.InvariantCulture),
        "--authentication-id", User, "--password", Password, "--x509-ca-file", _caPath, "--verbose", .. more,
    ]);

    /// <summary>How --verbose names the negotiated version in "TLS session info: (TLS1.2)-(ECDHE-...".</summary>
    private static string TlsVersion(SslProtocols protocol) => protocol == SslProtocols.Tls12 ? "(TLS1.2)" : "(TLS1.3)";

    /// <summary>The mechanism named on the AUTH line and the decoded client-first message (the line after the empty 334).</summary>
    private static (string Mechanism, string ClientFirst) Exchange(CliResult result)
    {
        var lines = result.StandardOutput.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        var auth = lines.FindIndex(l => l.StartsWith("AUTH ", StringComparison.Ordinal));
        auth.Should().BeGreaterThan(0, result.ToString());
        lines[auth + 1].Should().Be("334 ", "SCRAM starts with an empty challenge when there is no initial response");
        return (lines[auth][5..], FromB64(lines[auth + 2]));
    }

    [SkippableTheory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task Scram_sha_256_logs_in(SslProtocols protocol)
    {
        var throttle = new CountingThrottle();
        await using var server = await StartAsync(protocol, throttle);

        var result = await RunGsaslAsync(server, "--mechanism", "SCRAM-SHA-256", "--no-cb");

        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardError.Should().Contain("TLS session info: " + TlsVersion(protocol));
        var (mechanism, clientFirst) = Exchange(result);
        mechanism.Should().Be("SCRAM-SHA-256");
        clientFirst.Should().StartWith("n,,n=alice,r=");
        result.StandardOutput.Should().Contain("235 2.7.0 Authentication successful");
        throttle.Successes.Should().Be(1);
    }

    [SkippableFact]
    public async Task Default_choice_over_tls12_is_scram_plus_bound_with_tls_unique()
    {
        var throttle = new CountingThrottle();
        await using var server = await StartAsync(SslProtocols.Tls12, throttle);

        var result = await RunGsaslAsync(server);

        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardError.Should().Contain("TLS session info: (TLS1.2)");
        var (mechanism, clientFirst) = Exchange(result);
        mechanism.Should().Be("SCRAM-SHA-256-PLUS");
        clientFirst.Should().StartWith("p=tls-unique,,n=alice,r=", "GnuTLS's tls-unique, which the server compared with OpenSSL's");
        result.StandardOutput.Should().Contain("235 2.7.0 Authentication successful");
        throttle.Successes.Should().Be(1);
    }

    [SkippableTheory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task Default_choice_without_binding_data_logs_in_like_mutt(SslProtocols protocol)
    {
        // On TLS 1.3 -PLUS is not offered, so a client with no binding data picks SCRAM-SHA-256. On TLS 1.2 -PLUS is
        // offered and libgsasl without binding data cannot run it: gsasl (like mutt) would fail there, so this case
        // removes -PLUS from the list, which is what an operator with such clients on TLS 1.2 does.
        var throttle = new CountingThrottle();
        await using var server = await StartAsync(protocol, throttle, withoutPlus: protocol == SslProtocols.Tls12);

        var result = await RunGsaslAsync(server, "--no-cb");

        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardError.Should().Contain("TLS session info: " + TlsVersion(protocol));
        result.StandardOutput.Should().NotContain("SCRAM-SHA-256-PLUS", "-PLUS is not offered here");
        var (mechanism, clientFirst) = Exchange(result);
        mechanism.Should().Be("SCRAM-SHA-256");
        clientFirst.Should().StartWith("n,,");
        result.StandardOutput.Should().Contain("235 2.7.0 Authentication successful");
        throttle.Successes.Should().Be(1);
    }

    [SkippableFact]
    public async Task Tls13_with_the_opt_in_answers_tls_exporter_with_unsupported_channel_binding_type()
    {
        var throttle = new CountingThrottle();
        await using var server = await StartAsync(SslProtocols.Tls13, throttle, scramPlusOnTls13: true);

        var result = await RunGsaslAsync(server);

        result.ExitCode.Should().NotBe(0, result.ToString());
        result.StandardError.Should().Contain("TLS session info: (TLS1.3)");
        var (mechanism, clientFirst) = Exchange(result);
        mechanism.Should().Be("SCRAM-SHA-256-PLUS");
        clientFirst.Should().StartWith("p=tls-exporter,,", "RFC 9266: the TLS 1.3 binding, which .NET cannot compute");
        result.StandardOutput.Should().Contain("334 " + B64("e=unsupported-channel-binding-type"), "the RFC 5802 server-final error, not a bare 535");
        result.StandardOutput.Should().NotContain("235");
        throttle.Successes.Should().Be(0);
    }

    // ---- mutt ----------------------------------------------------------------------------------------------------

    /// <summary>
    /// mutt (Debian's: GnuTLS, GNU SASL) sends one message in batch mode with its default mechanism choice. It gives
    /// libgsasl no channel-binding data, so it logs in with SCRAM-SHA-256 only where -PLUS is not offered: on TLS 1.3 by
    /// default, and on TLS 1.2 once -PLUS is removed (offered there, mutt picks it, cannot run it, sends * and gives up).
    /// </summary>
    [SkippableTheory]
    [InlineData(SslProtocols.Tls13, false)]
    [InlineData(SslProtocols.Tls12, true)]
    public async Task Mutt_logs_in_with_scram_sha_256_where_plus_is_not_offered(SslProtocols protocol, bool withoutPlus)
    {
        var throttle = new CountingThrottle();
        var store = new SessionRecorder();
        await using var server = await StartAsync(protocol, throttle, withoutPlus: withoutPlus, store: store);
        var muttrc = Path.Combine(_dir, "muttrc");
        File.WriteAllText(muttrc, $"""
            set from="a@c.test"
            set smtp_url="smtp://{User}@127.0.0.1:{server.Port.ToString(CultureInfo.InvariantCulture)}/"
            set smtp_pass="{Password}"
            set ssl_starttls=yes
            set ssl_force_tls=yes
            set certificate_file="{_caPath}"
            set ssl_ca_certificates_file="{_caPath}"
            set record=""
            """);

        var result = await CliTool.RunAsync("mutt", ["-n", "-F", muttrc, "-s", "mutt " + protocol, "b@s.test"], standardInput: "hello\n");

        result.ExitCode.Should().Be(0, result.ToString());
        var facts = store.Snapshots.Should().ContainSingle(result.ToString()).Subject;
        facts.Identity.Should().Be(User);
        facts.Mechanism.Should().Be("SCRAM-SHA-256");
        facts.Content.Should().Contain("Subject: mutt " + protocol);
        throttle.Successes.Should().Be(1);
    }
}
