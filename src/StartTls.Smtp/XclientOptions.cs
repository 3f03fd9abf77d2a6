namespace StartTls.Smtp;

/// <summary>
/// Postfix's XCLIENT command (XCLIENT_README): a trusted SMTP proxy or content filter tells the server the
/// original client's address, host name, HELO name and login. Off while <see cref="TrustedSources"/> is empty.
/// </summary>
/// <remarks>
/// XCLIENT is advertised in the EHLO reply, and accepted, only for clients in <see cref="TrustedSources"/> (their
/// address after any PROXY header); others get <c>550 5.7.0</c>. It is refused inside a mail transaction
/// (<c>503 5.5.1</c>). A successful XCLIENT updates the session and starts it again: the reply is a new
/// <c>220</c> greeting, and the client must send EHLO or HELO again.
/// </remarks>
public sealed class XclientOptions
{
    /// <summary>
    /// The clients allowed to send XCLIENT, as IP addresses or CIDR blocks (<c>127.0.0.1</c>, <c>10.0.0.0/8</c>).
    /// Default empty (XCLIENT is neither offered nor accepted).
    /// </summary>
    public IList<string> TrustedSources { get; } = [];
}
