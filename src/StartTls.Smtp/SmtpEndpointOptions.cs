namespace StartTls.Smtp;

/// <summary>One address the server listens on.</summary>
public sealed class SmtpEndpointOptions
{
    /// <summary>
    /// Where to listen: <c>HOST:PORT</c>. HOST is an IPv4 address, a bracketed IPv6 address (<c>[::1]:2525</c>),
    /// <c>localhost</c> (both loopbacks), or <c>*</c> (every address, IPv4 and IPv6). Port 0 picks a free port,
    /// reported by <see cref="SmtpServer.ListeningEndPoints"/>.
    /// </summary>
    public string Address { get; set; } = "127.0.0.1:2525";

    /// <summary>
    /// The endpoint's name in logs and metrics (the <c>smtp.endpoint</c> tag), for example <c>mx</c> or
    /// <c>submission</c>. Default: the <see cref="Address"/>.
    /// </summary>
    public string? Name { get; set; }

    /// <summary>
    /// Implicit TLS (RFC 8314, port 465 style): the TLS handshake comes first and the greeting is sent inside TLS.
    /// Needs a certificate in <see cref="SmtpServerOptions.Tls"/>. Default false (plaintext with STARTTLS when a certificate is configured).
    /// </summary>
    public bool ImplicitTls { get; set; }

    /// <summary>
    /// Submission-style endpoint: before STARTTLS only EHLO, HELO, STARTTLS, NOOP, RSET and QUIT work; anything else gets
    /// <c>530 5.7.0 Must issue a STARTTLS command first</c>. Leave false on MX endpoints (RFC 3207 §4: a public MX must not require TLS).
    /// </summary>
    public bool RequireTls { get; set; }

    /// <summary>
    /// The protocol spoken here. <see cref="SmtpEndpointProtocol.Lmtp"/> (RFC 2033) greets with LMTP, takes <c>LHLO</c>
    /// (HELO and EHLO get <c>500</c>) and answers the content once per accepted recipient, in RCPT order (a store
    /// that implements <see cref="Storage.ILmtpMessageStore"/> decides each reply). LMTP is for a trusted network:
    /// never on port 25 (RFC 2033 §5). Default <see cref="SmtpEndpointProtocol.Smtp"/>.
    /// </summary>
    public SmtpEndpointProtocol Protocol { get; set; }

    /// <inheritdoc />
    public override string ToString() => Address;
}
