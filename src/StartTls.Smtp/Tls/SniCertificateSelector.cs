using System.Net.Security;

namespace StartTls.Smtp.Tls;

/// <summary>
/// Chooses a certificate by the SNI host name: an exact name first, then a <c>*.</c> wildcard one label up, then the
/// default (Kestrel's order). A malformed or absent name gets the default; with no default such a handshake is refused.
/// </summary>
public sealed class SniCertificateSelector : IServerCertificateSelector
{
    private readonly Dictionary<string, ICertificateSource> _exact = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, ICertificateSource> _wildcard = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Creates a selector.</summary>
    /// <param name="defaultCertificate">The certificate for clients that send no (or an unknown) name; optional.</param>
    public SniCertificateSelector(ICertificateSource? defaultCertificate = null) => Default = defaultCertificate;

    /// <summary>The certificate for clients whose name matches nothing.</summary>
    public ICertificateSource? Default { get; set; }

    /// <summary>Serves <paramref name="source"/> for <paramref name="hostName"/> (<c>mail.example.com</c>) or a wildcard (<c>*.example.com</c>).</summary>
    /// <param name="hostName">The name or wildcard pattern.</param>
    /// <param name="source">The certificate.</param>
    /// <returns>This selector.</returns>
    public SniCertificateSelector Add(string hostName, ICertificateSource source)
    {
        ArgumentException.ThrowIfNullOrEmpty(hostName);
        ArgumentNullException.ThrowIfNull(source);
        var name = hostName.TrimEnd('.');
        if (name.StartsWith("*.", StringComparison.Ordinal))
        {
            _wildcard[name[2..]] = source;
        }
        else
        {
            _exact[name] = source;
        }

        return this;
    }

    /// <summary>Finds the certificate source for a name, without the session (for tests and tools).</summary>
    /// <param name="serverName">The SNI name, or <see langword="null"/>.</param>
    /// <returns>The source, or <see langword="null"/> when none applies.</returns>
    public ICertificateSource? Find(string? serverName)
    {
        var name = Normalize(serverName);
        if (name is not null)
        {
            if (_exact.TryGetValue(name, out var exact))
            {
                return exact;
            }

            var dot = name.IndexOf('.', StringComparison.Ordinal);
            if (dot > 0 && _wildcard.TryGetValue(name[(dot + 1)..], out var wildcard))
            {
                return wildcard;
            }
        }

        return Default;
    }

    /// <inheritdoc />
    public ValueTask<SslStreamCertificateContext?> SelectCertificateAsync(string? serverName, SmtpSession session, CancellationToken cancellationToken)
        => ValueTask.FromResult(Find(serverName)?.GetCertificate());

    /// <summary>Lower-cases a valid DNS name and drops a trailing dot; anything else counts as no name.</summary>
    private static string? Normalize(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        name = name.TrimEnd('.');
        if (name.Length is 0 or > 253)
        {
            return null;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
            {
                return null;
            }
        }

        return name.Contains("..", StringComparison.Ordinal) ? null : name;
    }
}
