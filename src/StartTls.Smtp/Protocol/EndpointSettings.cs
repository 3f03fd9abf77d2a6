namespace StartTls.Smtp.Protocol;

/// <summary>What a connection needs to know about the endpoint it arrived on: a snapshot, taken once per endpoint.</summary>
/// <param name="Name">The endpoint's name in logs and metrics.</param>
/// <param name="ImplicitTls">The handshake comes first (RFC 8314).</param>
/// <param name="RequireTls">Only EHLO, HELO, STARTTLS, NOOP, RSET and QUIT before TLS.</param>
internal sealed record EndpointSettings(string Name, bool ImplicitTls, bool RequireTls)
{
    /// <summary>The endpoint of a connection served without endpoint options: plaintext, STARTTLS when certificates are configured.</summary>
    public static readonly EndpointSettings Plain = new("pipe", false, false);

    /// <summary>The measurement tag that names this endpoint, built once.</summary>
    public KeyValuePair<string, object?> MetricTag { get; } = new(Diagnostics.SmtpTelemetry.EndpointTag, Name);

    /// <summary>The endpoint speaks LMTP (RFC 2033): LHLO, and one reply per recipient after the content.</summary>
    public bool IsLmtp { get; init; }

    /// <summary>False when this endpoint never offers STARTTLS, even with a certificate.</summary>
    public bool OfferStartTls { get; init; } = true;

    /// <summary>False when this endpoint neither advertises nor accepts AUTH.</summary>
    public bool OfferAuthentication { get; init; } = true;

    /// <summary>This endpoint's AUTH-before-MAIL rule; <see langword="null"/> inherits the server's.</summary>
    public bool? RequireAuthentication { get; init; }

    /// <summary>The mechanism names offered here; <see langword="null"/> for all the server's.</summary>
    public IReadOnlyList<string>? AuthenticationMechanisms { get; init; }

    /// <summary>This endpoint's message size limit; <see langword="null"/> inherits the server's.</summary>
    public long? MaxMessageSize { get; init; }

    /// <summary>The PROXY protocol sources trusted on this endpoint in addition to the server's.</summary>
    public Transport.TrustedNetworks ProxySources { get; init; } = Transport.TrustedNetworks.None;

    /// <summary>The public view of this endpoint, for <see cref="SmtpSession.Endpoint"/>, built once.</summary>
    public SmtpEndpointInfo Info => _info ??= new SmtpEndpointInfo(Name, ImplicitTls, RequireTls);

    private SmtpEndpointInfo? _info;

    /// <summary>Whether the mechanism <paramref name="name"/> may be offered on this endpoint.</summary>
    public bool AllowsMechanism(string name)
    {
        if (AuthenticationMechanisms is not { } allowed)
        {
            return true;
        }

        foreach (var entry in allowed)
        {
            if (string.Equals(entry, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    public static EndpointSettings From(SmtpEndpointOptions options)
        => new(string.IsNullOrEmpty(options.Name) ? options.Address : options.Name, options.ImplicitTls, options.RequireTls)
        {
            IsLmtp = options.Protocol == SmtpEndpointProtocol.Lmtp,
            OfferStartTls = options.OfferStartTls ?? true,
            OfferAuthentication = options.OfferAuthentication ?? true,
            RequireAuthentication = options.RequireAuthentication,
            AuthenticationMechanisms = options.AuthenticationMechanisms.Count == 0 ? null : [.. options.AuthenticationMechanisms],
            MaxMessageSize = options.MaxMessageSize,
            ProxySources = options.ProxyProtocolTrustedSources.Count == 0 ? Transport.TrustedNetworks.None : Transport.TrustedNetworks.Parse(options.ProxyProtocolTrustedSources),
        };
}
