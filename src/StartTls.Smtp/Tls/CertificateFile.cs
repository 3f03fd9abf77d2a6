using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace StartTls.Smtp.Tls;

/// <summary>
/// A certificate loaded from files, PEM (certificate chain, then the key in the same or a separate file) or PKCS#12
/// (<c>.pfx</c>/<c>.p12</c>), and loaded again when the files change, so a renewal needs no restart. Connections
/// already open keep the certificate they were given. A file that fails to load keeps the previous certificate.
/// </summary>
public sealed class CertificateFile : ICertificateSource
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(1);

    private readonly string _certificatePath;
    private readonly string? _keyPath;
    private readonly string? _password;
    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private Loaded _current;
    private long _nextCheck;

    /// <summary>Loads the certificate now; throws if the files cannot be read or do not hold a certificate with its key.</summary>
    /// <param name="certificatePath">A PEM file with the certificate and its intermediates (leaf first), or a PKCS#12 file.</param>
    /// <param name="keyPath">The PEM private key, when it is not in <paramref name="certificatePath"/>; unused for PKCS#12.</param>
    /// <param name="password">The PKCS#12 password, or the PEM key's password if it is encrypted.</param>
    /// <param name="timeProvider">The clock that spaces the checks for changes (at most one a second); <see cref="TimeProvider.System"/> when <see langword="null"/>.</param>
    public CertificateFile(string certificatePath, string? keyPath = null, string? password = null, TimeProvider? timeProvider = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(certificatePath);
        _certificatePath = Path.GetFullPath(certificatePath);
        _keyPath = string.IsNullOrEmpty(keyPath) ? null : Path.GetFullPath(keyPath);
        _password = password;
        _timeProvider = timeProvider ?? TimeProvider.System;
        _current = Load();
        _nextCheck = _timeProvider.GetTimestamp() + IntervalTicks;
    }

    /// <summary>The certificate in use now.</summary>
    public X509Certificate2 Certificate
    {
        get
        {
            CheckForChanges();
            return _current.Certificate;
        }
    }

    /// <summary>Raised after the files changed and the new certificate loaded.</summary>
    public event EventHandler? Reloaded;

    /// <inheritdoc />
    public SslStreamCertificateContext GetCertificate()
    {
        CheckForChanges();
        return _current.Context;
    }

    /// <summary>Loads the files again now if they changed since the last load.</summary>
    /// <returns>True when a new certificate was loaded.</returns>
    public bool ReloadIfChanged()
    {
        lock (_lock)
        {
            var stamp = ReadStamp();
            if (stamp == _current.Stamp)
            {
                return false;
            }

            Loaded loaded;
            try
            {
                loaded = Load();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException or ArgumentException)
            {
                // Half-written files during a renewal: keep serving the old certificate and try again later.
                return false;
            }

            _current = loaded;
        }

        Reloaded?.Invoke(this, EventArgs.Empty);
        return true;
    }

    private void CheckForChanges()
    {
        // A stat per second at most, on the handshake path only: cheap, and works where file watchers do not.
        var now = _timeProvider.GetTimestamp();
        if (now < Volatile.Read(ref _nextCheck))
        {
            return;
        }

        Volatile.Write(ref _nextCheck, now + IntervalTicks);
        ReloadIfChanged();
    }

    /// <summary>The check interval in the units of <see cref="TimeProvider.GetTimestamp"/>.</summary>
    private long IntervalTicks => (long)(CheckInterval.TotalSeconds * _timeProvider.TimestampFrequency);

    private (DateTime, long, DateTime) ReadStamp()
    {
        var cert = new FileInfo(_certificatePath);
        var key = _keyPath is null ? null : new FileInfo(_keyPath);
        return (cert.Exists ? cert.LastWriteTimeUtc : default, cert.Exists ? cert.Length : -1, key is { Exists: true } ? key.LastWriteTimeUtc : default);
    }

    private Loaded Load()
    {
        var stamp = ReadStamp();
        var extension = Path.GetExtension(_certificatePath);
        X509Certificate2 leaf;
        var chain = new X509Certificate2Collection();
        if (extension.Equals(".pfx", StringComparison.OrdinalIgnoreCase) || extension.Equals(".p12", StringComparison.OrdinalIgnoreCase))
        {
            var all = X509CertificateLoader.LoadPkcs12CollectionFromFile(_certificatePath, _password);
            leaf = all.FirstOrDefault(c => c.HasPrivateKey) ?? throw new InvalidDataException($"'{_certificatePath}' holds no certificate with a private key.");
            foreach (var c in all)
            {
                if (!ReferenceEquals(c, leaf))
                {
                    chain.Add(c);
                }
            }
        }
        else
        {
            var keyFile = _keyPath ?? _certificatePath;
            leaf = string.IsNullOrEmpty(_password)
                ? X509Certificate2.CreateFromPemFile(_certificatePath, keyFile)
                : X509Certificate2.CreateFromEncryptedPemFile(_certificatePath, _password, keyFile);
            var all = new X509Certificate2Collection();
            all.ImportFromPemFile(_certificatePath);
            for (var i = 1; i < all.Count; i++)
            {
                chain.Add(all[i]);
            }

            if (OperatingSystem.IsWindows())
            {
                // SChannel cannot use an ephemeral PEM key; round-trip through PKCS#12.
                leaf = X509CertificateLoader.LoadPkcs12(leaf.Export(X509ContentType.Pkcs12), null);
            }
        }

        return new Loaded(leaf, SslStreamCertificateContext.Create(leaf, chain, offline: true), stamp);
    }

    private sealed record Loaded(X509Certificate2 Certificate, SslStreamCertificateContext Context, (DateTime, long, DateTime) Stamp);
}
