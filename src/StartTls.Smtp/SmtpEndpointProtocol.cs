namespace StartTls.Smtp;

/// <summary>The protocol an endpoint speaks (<see cref="SmtpEndpointOptions.Protocol"/>).</summary>
public enum SmtpEndpointProtocol
{
    /// <summary>SMTP and ESMTP (RFC 5321): <c>EHLO</c> or <c>HELO</c>, one reply to the end of the content.</summary>
    Smtp = 0,

    /// <summary>
    /// LMTP (RFC 2033), for final delivery from a mail transfer agent on the same host or a trusted network: <c>LHLO</c>
    /// instead of <c>EHLO</c>/<c>HELO</c>, and one reply per accepted recipient after the content. Never on port 25.
    /// </summary>
    Lmtp = 1,
}
