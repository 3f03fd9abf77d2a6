namespace StartTls.Smtp;

/// <summary>What a delivery status notification for a failed message should contain: the MAIL parameter <c>RET</c> (RFC 3461 §4.3).</summary>
public enum DsnReturn
{
    /// <summary>The client sent no <c>RET</c>: the reporting server chooses.</summary>
    Unspecified = 0,

    /// <summary><c>RET=FULL</c>: return the whole message.</summary>
    Full,

    /// <summary><c>RET=HDRS</c>: return the headers only.</summary>
    Headers,
}
