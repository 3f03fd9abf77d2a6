namespace StartTls.Smtp.Transport;

/// <summary>The outcome of parsing the start of a connection as a PROXY protocol header.</summary>
internal enum ProxyHeaderStatus
{
    /// <summary>The bytes so far are a valid beginning; more are needed.</summary>
    Incomplete,

    /// <summary>A complete, valid header.</summary>
    Valid,

    /// <summary>Not a PROXY header, or a malformed one: the connection is closed without a reply.</summary>
    Invalid,
}
