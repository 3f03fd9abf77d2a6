namespace StartTls.Smtp.Tls;

/// <summary>Why a TLS handshake did not complete; the <c>reason</c> tag of the handshake-failure metric.</summary>
internal enum TlsFailureKind
{
    /// <summary>The handshake did not complete: refused by TLS (an alert was sent), malformed, or broken off mid-way.</summary>
    Failed,

    /// <summary>The first byte did not open a TLS handshake record (plaintext after STARTTLS or on an implicit-TLS port).</summary>
    NotTls,

    /// <summary>The handshake took longer than the handshake timeout.</summary>
    Timeout,

    /// <summary>The client closed before sending anything, or the server was shutting down.</summary>
    Closed,
}
