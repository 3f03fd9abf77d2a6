namespace StartTls.Smtp.Protocol;

/// <summary>The outcome of parsing a reverse or forward path.</summary>
internal enum PathParseResult
{
    /// <summary>A valid path.</summary>
    Ok,

    /// <summary>The path does not follow the RFC 5321 grammar.</summary>
    Syntax,

    /// <summary>The path contains bytes that are not valid UTF-8.</summary>
    InvalidUtf8,
}
