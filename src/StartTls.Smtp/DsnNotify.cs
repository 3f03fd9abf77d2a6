namespace StartTls.Smtp;

/// <summary>When the client asks for a delivery status notification for one recipient: the RCPT parameter <c>NOTIFY</c> (RFC 3461 §4.1).</summary>
[Flags]
public enum DsnNotify
{
    /// <summary>The client sent no <c>NOTIFY</c>: failures are reported, as without DSN.</summary>
    Unspecified = 0,

    /// <summary><c>NOTIFY=NEVER</c>: no notification at all. Never combined with another value.</summary>
    Never = 1,

    /// <summary><c>SUCCESS</c>: report successful delivery.</summary>
    Success = 2,

    /// <summary><c>FAILURE</c>: report a failed delivery.</summary>
    Failure = 4,

    /// <summary><c>DELAY</c>: report a delayed delivery.</summary>
    Delay = 8,
}
