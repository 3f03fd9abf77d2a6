namespace StartTls.Smtp;

/// <summary>The body type a client declared with <c>MAIL FROM … BODY=</c> (RFC 6152, RFC 3030).</summary>
public enum SmtpBodyType
{
    /// <summary>No BODY parameter was given; the content should be 7-bit, but is stored as received.</summary>
    Unspecified = 0,

    /// <summary><c>BODY=7BIT</c>.</summary>
    SevenBit,

    /// <summary><c>BODY=8BITMIME</c>: lines may contain octets above 127.</summary>
    EightBitMime,

    /// <summary>
    /// <c>BODY=BINARYMIME</c> (RFC 3030 §3): the content may be binary MIME, with no line structure; it arrives only
    /// through BDAT chunks, never through DATA.
    /// </summary>
    BinaryMime,
}
