namespace StartTls.Smtp.Protocol;

/// <summary>The commands the server recognises.</summary>
internal enum SmtpVerb
{
    Unknown = 0,
    Helo,
    Ehlo,
    Mail,
    Rcpt,
    Data,
    Rset,
    Noop,
    Quit,
    Vrfy,
    Expn,
    Help,
    StartTls,
    Auth,
    Bdat,
    Xclient,

    /// <summary>LMTP's greeting (RFC 2033 §4.1); a command only on LMTP endpoints.</summary>
    Lhlo,
}
