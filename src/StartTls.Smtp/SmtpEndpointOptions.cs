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

    /// <summary>
    /// Offer STARTTLS on this endpoint. <see langword="null"/> (the default) inherits the server: offered when a certificate
    /// is configured. False hides STARTTLS here even with a certificate (a plaintext-only endpoint, for example behind a TLS proxy).
    /// </summary>
    public bool? OfferStartTls { get; set; }

    /// <summary>
    /// Offer and accept AUTH on this endpoint. <see langword="null"/> (the default) inherits the server: offered when a
    /// credential hook is set. False: no AUTH advertised here, and the command gets <c>502 5.5.1</c> (an MX).
    /// </summary>
    public bool? OfferAuthentication { get; set; }

    /// <summary>
    /// Require AUTH before MAIL on this endpoint (<c>530 5.7.0 Authentication required</c>). <see langword="null"/> (the
    /// default) inherits <see cref="Authentication.SmtpAuthenticationOptions.RequireAuthentication"/>.
    /// </summary>
    public bool? RequireAuthentication { get; set; }

    /// <summary>
    /// The SASL mechanisms offered on this endpoint, by name: a subset of
    /// <see cref="Authentication.SmtpAuthenticationOptions.Mechanisms"/>, advertised in the server's order. Empty (the
    /// default) inherits all of them.
    /// </summary>
    public IList<string> AuthenticationMechanisms { get; private set; } = [];

    /// <summary>
    /// The largest message on this endpoint, in octets: advertised as <c>SIZE</c> and enforced for DATA and BDAT
    /// (<c>552 5.3.4</c>). <see langword="null"/> (the default) inherits <see cref="SmtpServerOptions.MaxMessageSize"/>.
    /// </summary>
    public long? MaxMessageSize { get; set; }

    /// <summary>
    /// More sources (IP addresses or CIDR blocks) whose PROXY protocol headers are believed and required on this
    /// endpoint, in addition to <see cref="ProxyProtocolOptions.TrustedSources"/>. Default: none.
    /// </summary>
    public IList<string> ProxyProtocolTrustedSources { get; private set; } = [];

    /// <inheritdoc />
    public override string ToString() => Address;

    /// <summary>
    /// A copy of these options, lists included, so that changing one changes nothing in the other: what the server (and
    /// a transport such as Kestrel's <c>UseSmtp</c>) keeps as the endpoint's policy when it starts.
    /// </summary>
    /// <returns>The copy.</returns>
    public SmtpEndpointOptions Clone()
    {
        var copy = (SmtpEndpointOptions)MemberwiseClone();
        copy.AuthenticationMechanisms = [.. AuthenticationMechanisms];
        copy.ProxyProtocolTrustedSources = [.. ProxyProtocolTrustedSources];
        return copy;
    }
}
