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
}
