namespace StartTls.Smtp;

/// <summary>What the server does with a bare CR or a bare LF in message content (the SMTP smuggling vector).</summary>
/// <remarks>
/// In both modes only <c>&lt;CRLF&gt;.&lt;CRLF&gt;</c> ends the message (CVE-2023-51764): a dot next to a bare CR or
/// bare LF is never a terminator.
/// </remarks>
public enum BareLineEndingHandling
{
    /// <summary>
    /// Refuse the message with <c>550 5.6.0</c>, a reply that tells the client to send CRLF line endings, and close
    /// the connection: nothing is stored. The default, as Postfix's <c>smtpd_forbid_bare_newline = reject</c>.
    /// </summary>
    Reject = 0,

    /// <summary>
    /// Store a bare CR or bare LF as CRLF, as Postfix's default <c>smtpd_forbid_bare_newline = normalize</c> does for
    /// bare LF. A bare LF starts a line for dot-unstuffing (clients that send bare LF stuff the line after it), but a
    /// lone dot there is kept as the text line <c>.</c>, never read as the end. The line after a bare CR is stored
    /// as it came, without dot-unstuffing (clients do not stuff after a bare CR).
    /// </summary>
    Normalize,
}
