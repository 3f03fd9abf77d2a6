namespace StartTls.Smtp.Protocol;

/// <summary>What a connection needs to know about the endpoint it arrived on.</summary>
/// <param name="ImplicitTls">The handshake comes first (RFC 8314).</param>
/// <param name="RequireTls">Only EHLO, HELO, STARTTLS, NOOP, RSET and QUIT before TLS.</param>
internal sealed record EndpointSettings(bool ImplicitTls, bool RequireTls)
{
    /// <summary>A plaintext endpoint that offers STARTTLS when certificates are configured.</summary>
    public static readonly EndpointSettings Plain = new(false, false);

    public static EndpointSettings From(SmtpEndpointOptions options) => new(options.ImplicitTls, options.RequireTls);
}
