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

    /// <inheritdoc />
    public override string ToString() => Address;
}
