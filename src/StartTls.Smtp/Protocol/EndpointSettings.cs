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

    public static EndpointSettings From(SmtpEndpointOptions options)
        => new(string.IsNullOrEmpty(options.Name) ? options.Address : options.Name, options.ImplicitTls, options.RequireTls)
        {
            IsLmtp = options.Protocol == SmtpEndpointProtocol.Lmtp,
        };
}
