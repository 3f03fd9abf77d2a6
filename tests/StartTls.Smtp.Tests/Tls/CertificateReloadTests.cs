using System.Security.Cryptography.X509Certificates;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// Certificates from PEM files are replaced while the server runs (a renewal): new connections get the new
/// certificate once the files change (checked at most once a second), connections already open keep working.
/// </summary>
public sealed class CertificateReloadTests : IDisposable
{
    // Only for the negative checks: a broken file must still be in place after a check has surely run.
    private static readonly TimeSpan PastCheckInterval = TimeSpan.FromMilliseconds(1300);

    private readonly string _dir = Path.Combine(Path.GetTempPath(), "starttls-reload-" + Guid.NewGuid().ToString("N"));

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
    }

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
    public async Task Replaced_pem_files_are_served_to_new_connections_while_an_open_connection_keeps_working()
    {
        var first = TestCertificates.IssueServer("mx.test");
        var second = TestCertificates.IssueServer("mx.test");
        var (crt, key) = TestCertificates.WritePem(first, _dir, "mx");
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Tls.CertificatePath = crt;
            o.Tls.KeyPath = key;
        });

        (await ThumbprintOfNewConnectionAsync(server)).Should().Be(first.Thumbprint);

        // A connection opened before the swap, inside TLS and in the middle of a transaction.
        var (oldRaw, oldTls) = await server.ConnectWithStartTlsAsync();
        await using var _ = oldRaw;
        await using var __ = oldTls;
        oldTls.ServerCertificate.Thumbprint.Should().Be(first.Thumbprint);
        await oldTls.EhloAsync();
        (await oldTls.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");

        Replace(second, crt, key);
        (await ServesAsync(server, second)).Should().BeTrue("new connections get the renewed certificate");
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
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Tls.CertificatePath = crt;
            o.Tls.KeyPath = key;
        });

        // Half a renewal: a new certificate whose key has not arrived yet, then garbage.
        var staging = Path.Combine(_dir, "half");
        var (secondCrt, _) = TestCertificates.WritePem(second, staging, "half");
        File.Copy(secondCrt, crt, overwrite: true);
        await Task.Delay(PastCheckInterval);
        (await ThumbprintOfNewConnectionAsync(server)).Should().Be(first.Thumbprint, "the certificate does not match the key: keep the old one");

        await File.WriteAllTextAsync(crt, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n");
        await Task.Delay(PastCheckInterval);
        (await ThumbprintOfNewConnectionAsync(server)).Should().Be(first.Thumbprint, "an unreadable file keeps the old certificate");

        Replace(second, crt, key);
        (await ServesAsync(server, second)).Should().BeTrue("new connections get the renewed certificate");
    }

    [Fact]
    public async Task An_sni_certificate_file_is_reloaded_too()
    {
        var fallback = TestCertificates.IssueServer("default.test");
        var first = TestCertificates.IssueServer("mx.test");
        var second = TestCertificates.IssueServer("mx.test");
        var (defaultCrt, defaultKey) = TestCertificates.WritePem(fallback, _dir, "default");
        var (crt, key) = TestCertificates.WritePem(first, _dir, "mx");
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Tls.CertificatePath = defaultCrt;
            o.Tls.KeyPath = defaultKey;
            o.Tls.SniCertificates.Add(new SniCertificateOptions { ServerName = "mx.test", CertificatePath = crt, KeyPath = key });
        });

        (await ThumbprintOfNewConnectionAsync(server)).Should().Be(first.Thumbprint);
        Replace(second, crt, key);
        (await ServesAsync(server, second)).Should().BeTrue("new connections get the renewed certificate");
    }

    [Fact]
    public void CertificateFile_reports_a_reload_and_ignores_an_unchanged_file()
    {
        var first = TestCertificates.IssueServer("mx.test");
        var second = TestCertificates.IssueServer("mx.test");
        var (crt, key) = TestCertificates.WritePem(first, _dir, "direct");
        var file = new CertificateFile(crt, key);
        var reloads = 0;
        file.Reloaded += (_, _) => reloads++;

        file.Certificate.Thumbprint.Should().Be(first.Thumbprint);
        file.ReloadIfChanged().Should().BeFalse();
        Replace(second, crt, key);
        file.ReloadIfChanged().Should().BeTrue();
        file.Certificate.Thumbprint.Should().Be(second.Thumbprint);
        file.GetCertificate().TargetCertificate.Thumbprint.Should().Be(second.Thumbprint);
        file.ReloadIfChanged().Should().BeFalse();
        reloads.Should().Be(1);
    }
}
