using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Time.Testing;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// Certificates from PEM files are replaced while the server runs (a renewal): new connections get the new
/// certificate once the files change, checked at most once a second on the certificate's own clock (a
/// <see cref="FakeTimeProvider"/> here, so each check happens exactly when a test moves the clock); connections
/// already open keep working.
/// </summary>
public sealed class CertificateReloadTests : IDisposable
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "starttls-reload-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider _time = new();

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    /// <summary>Writes the new PEM files under temporary names, then moves them over the live ones (as certbot-style renewals do).</summary>
    private void Replace(X509Certificate2 certificate, string certificatePath, string keyPath)
    {
        var staging = Path.Combine(_dir, "staging-" + Guid.NewGuid().ToString("N"));
        var (newCrt, newKey) = TestCertificates.WritePem(certificate, staging, "next");

        // A real renewal comes long after the files it replaces. Here both are written within milliseconds, can share a
        // file-system timestamp tick and have the same size, and the reload check compares exactly those.
        File.SetLastWriteTimeUtc(newCrt, File.GetLastWriteTimeUtc(certificatePath).AddSeconds(2));
        File.SetLastWriteTimeUtc(newKey, File.GetLastWriteTimeUtc(keyPath).AddSeconds(2));
        File.Move(newKey, keyPath, overwrite: true);
        File.Move(newCrt, certificatePath, overwrite: true);
        Touch(keyPath);
        Touch(certificatePath);
    }

    /// <summary>
    /// Moves the file's modification time a minute on, so the change is seen whatever the file system's timestamp
    /// resolution and however fast the test wrote it.
    /// </summary>
    private static void Touch(string path) => File.SetLastWriteTimeUtc(path, File.GetLastWriteTimeUtc(path).AddMinutes(1));

    private static async Task<string> ThumbprintOfNewConnectionAsync(TestServer server, string sni = "mx.test")
    {
        var (raw, tls) = await server.ConnectWithStartTlsAsync(sni);
        await using (raw)
        await using (tls)
        {
            (await tls.EhloAsync()).Should().StartWith("250-");
            return tls.ServerCertificate.Thumbprint;
        }
    }

    /// <summary>
    /// Polls new connections until one gets <paramref name="expected"/>: the files are checked at most once a second,
    /// on the server's clock, and nothing signals the reload.
    /// </summary>
    private static async Task<bool> ServesAsync(TestServer server, X509Certificate2 expected)
        => await Eventually.HoldsAsync(async () => await ThumbprintOfNewConnectionAsync(server) == expected.Thumbprint, interval: TimeSpan.FromMilliseconds(250));

    [Fact]
    public async Task Replaced_pem_files_are_served_to_new_connections_after_the_next_check_while_an_open_connection_keeps_working()
    {
        var first = TestCertificates.IssueServer("mx.test");
        var second = TestCertificates.IssueServer("mx.test");
        var (crt, key) = TestCertificates.WritePem(first, _dir, "mx");
        await using var server = await TestServer.StartAsync(o => o.Tls.CertificateSelector = new SniCertificateSelector(new CertificateFile(crt, key, timeProvider: _time)));

        (await ThumbprintOfNewConnectionAsync(server)).Should().Be(first.Thumbprint);

        // A connection opened before the swap, inside TLS and in the middle of a transaction.
        var (oldRaw, oldTls) = await server.ConnectWithStartTlsAsync();
        await using var _ = oldRaw;
        await using var __ = oldTls;
        oldTls.ServerCertificate.Thumbprint.Should().Be(first.Thumbprint);
        await oldTls.EhloAsync();
        (await oldTls.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");

        Replace(second, crt, key);
        (await ThumbprintOfNewConnectionAsync(server)).Should().Be(first.Thumbprint, "the files are not looked at again before a second has passed");

        _time.Advance(CheckInterval);
        (await ThumbprintOfNewConnectionAsync(server)).Should().Be(second.Thumbprint, "the first handshake after the interval notices the change");
        (await ThumbprintOfNewConnectionAsync(server)).Should().Be(second.Thumbprint);

        (await oldTls.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        (await oldTls.CommandAsync("DATA")).Should().StartWith("354");
        (await oldTls.CommandAsync("sent on the connection opened before the renewal\r\n.")).Should().StartWith("250 2.0.0");
        server.Messages.Count.Should().Be(1);
    }

    [Fact]
    public async Task A_broken_replacement_keeps_the_old_certificate_until_a_good_one_arrives()
    {
        var first = TestCertificates.IssueServer("mx.test");
        var second = TestCertificates.IssueServer("mx.test");
        var (crt, key) = TestCertificates.WritePem(first, _dir, "mx");
        await using var server = await TestServer.StartAsync(o => o.Tls.CertificateSelector = new SniCertificateSelector(new CertificateFile(crt, key, timeProvider: _time)));

        // Half a renewal: a new certificate whose key has not arrived yet, then garbage.
        var staging = Path.Combine(_dir, "half");
        var (secondCrt, _) = TestCertificates.WritePem(second, staging, "half");
        File.Copy(secondCrt, crt, overwrite: true);
        Touch(crt);
        _time.Advance(CheckInterval);
        (await ThumbprintOfNewConnectionAsync(server)).Should().Be(first.Thumbprint, "the certificate does not match the key: keep the old one");

        await File.WriteAllTextAsync(crt, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
        Touch(crt);
        _time.Advance(CheckInterval);
        (await ThumbprintOfNewConnectionAsync(server)).Should().Be(first.Thumbprint, "an unreadable file keeps the old certificate");

        Replace(second, crt, key);
        _time.Advance(CheckInterval);
        (await ThumbprintOfNewConnectionAsync(server)).Should().Be(second.Thumbprint, "a good pair is loaded at the next check");
    }

    [Fact]
    public async Task An_sni_certificate_file_is_reloaded_too()
    {
        var fallback = TestCertificates.IssueServer("default.test");
        var first = TestCertificates.IssueServer("mx.test");
        var second = TestCertificates.IssueServer("mx.test");
        var (defaultCrt, defaultKey) = TestCertificates.WritePem(fallback, _dir, "default");
        var (crt, key) = TestCertificates.WritePem(first, _dir, "mx");
        await using var server = await TestServer.StartAsync(o => o.Tls.CertificateSelector =
            new SniCertificateSelector(new CertificateFile(defaultCrt, defaultKey, timeProvider: _time))
                .Add("mx.test", new CertificateFile(crt, key, timeProvider: _time)));

        (await ThumbprintOfNewConnectionAsync(server)).Should().Be(first.Thumbprint);
        Replace(second, crt, key);
        _time.Advance(CheckInterval);
        (await ThumbprintOfNewConnectionAsync(server)).Should().Be(second.Thumbprint);
    }

    [Fact]
    public void The_configured_files_default_and_sni_alike_check_for_changes_on_the_clock_they_are_given()
    {
        var first = TestCertificates.IssueServer("mx.test");
        var second = TestCertificates.IssueServer("mx.test");
        var (defaultCrt, defaultKey) = TestCertificates.WritePem(first, _dir, "default");
        var (sniCrt, sniKey) = TestCertificates.WritePem(first, _dir, "sni");
        var options = new SmtpTlsOptions { CertificatePath = defaultCrt, KeyPath = defaultKey };
        options.SniCertificates.Add(new SniCertificateOptions { ServerName = "mx.test", CertificatePath = sniCrt, KeyPath = sniKey });
        var selector = (SniCertificateSelector)TlsSettings.Create(options, _time)!.Selector;
        var sources = new[] { selector.Default!, selector.Find("mx.test")! };
        sources[0].Should().NotBeSameAs(sources[1]);

        Replace(second, defaultCrt, defaultKey);
        Replace(second, sniCrt, sniKey);
        _time.Advance(CheckInterval - TimeSpan.FromTicks(1));
        sources.Select(s => s.GetCertificate().TargetCertificate.Thumbprint).Should().AllBe(first.Thumbprint, "not a second yet");

        _time.Advance(TimeSpan.FromTicks(1));
        sources.Select(s => s.GetCertificate().TargetCertificate.Thumbprint).Should().AllBe(second.Thumbprint, "a second has passed");
    }

    [Fact]
    public void CertificateFile_checks_at_most_once_per_interval_and_reloads_on_demand()
    {
        var first = TestCertificates.IssueServer("mx.test");
        var second = TestCertificates.IssueServer("mx.test");
        var third = TestCertificates.IssueServer("mx.test");
        var (crt, key) = TestCertificates.WritePem(first, _dir, "direct");
        var file = new CertificateFile(crt, key, timeProvider: _time);
        var reloads = 0;
        file.Reloaded += (_, _) => reloads++;

        file.Certificate.Thumbprint.Should().Be(first.Thumbprint);
        file.ReloadIfChanged().Should().BeFalse("nothing changed");
        Replace(second, crt, key);
        _time.Advance(CheckInterval / 2);
        file.Certificate.Thumbprint.Should().Be(first.Thumbprint, "half a second: no check yet");
        _time.Advance(CheckInterval / 2);
        file.Certificate.Thumbprint.Should().Be(second.Thumbprint, "the check after a second loads the change");
        file.GetCertificate().TargetCertificate.Thumbprint.Should().Be(second.Thumbprint);
        reloads.Should().Be(1);

        // The check just made starts a new interval; ReloadIfChanged does not wait for it.
        Replace(third, crt, key);
        file.GetCertificate().TargetCertificate.Thumbprint.Should().Be(second.Thumbprint);
        file.ReloadIfChanged().Should().BeTrue();
        file.Certificate.Thumbprint.Should().Be(third.Thumbprint);
        file.ReloadIfChanged().Should().BeFalse();
        _time.Advance(CheckInterval);
        file.Certificate.Thumbprint.Should().Be(third.Thumbprint);
        reloads.Should().Be(2);
    }
}
