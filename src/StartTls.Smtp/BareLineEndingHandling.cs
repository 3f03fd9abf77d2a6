namespace StartTls.Smtp;

/// <summary>What the server does with a bare CR or a bare LF in message content (the SMTP smuggling vector).</summary>
public enum BareLineEndingHandling
{
    /// <summary>
    /// Refuse the message with <c>550 5.6.0</c> and close the connection: nothing is stored. The default, as
    /// Postfix's <c>smtpd_forbid_bare_newline = reject</c>.
    /// </summary>
    Reject = 0,

    /// <summary>
    /// Store a bare CR or bare LF as CRLF. It never ends the message: only <c>&lt;CRLF&gt;.&lt;CRLF&gt;</c> does, and a
    /// line that begins after a bare line ending is stored as it is, without dot handling.
    /// </summary>
    Normalize,
}
