namespace StartTls.Smtp;

/// <summary>
/// The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): a load balancer in front of the server
/// tells it the real client's address in a header before the SMTP (or TLS) conversation. Off while
/// <see cref="TrustedSources"/> is empty.
/// </summary>
/// <remarks>
/// A connection from a trusted source must start with a header (version 1 or 2, detected); without one, or with a
/// malformed one, it is closed without a reply, as HAProxy does. From then on the session's remote address, the
/// per-address connection limit, logs and the Received header use the client's address from the header. A
/// connection from any other address that starts with a PROXY header is a protocol violation and is closed: nobody
/// else may claim an address. On an implicit-TLS endpoint the header comes before the TLS handshake.
/// </remarks>
public sealed class ProxyProtocolOptions
{
    /// <summary>
    /// The proxies whose headers are believed, as IP addresses or CIDR blocks (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>,
    /// <c>127.0.0.1</c>); they apply to every endpoint. Connections from these addresses must send a header.
    /// Default empty (the PROXY protocol is off).
    /// </summary>
    public IList<string> TrustedSources { get; } = [];

    /// <summary>How long a trusted source may take to send its whole header before the connection is closed. Default 10 seconds.</summary>
    public TimeSpan HeaderTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
