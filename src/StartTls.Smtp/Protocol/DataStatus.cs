namespace StartTls.Smtp.Protocol;

/// <summary>Where <see cref="DataReader"/> stopped.</summary>
internal enum DataStatus
{
    /// <summary>All input was consumed; the terminator has not arrived yet.</summary>
    NeedMoreData,

    /// <summary>The <c>&lt;CRLF&gt;.&lt;CRLF&gt;</c> terminator was read; the content is complete.</summary>
    Completed,

    /// <summary>A bare CR or LF arrived while bare line endings are rejected.</summary>
    BareLineEnding,

    /// <summary>A NUL octet arrived; it is never valid message content.</summary>
    Nul,
}
