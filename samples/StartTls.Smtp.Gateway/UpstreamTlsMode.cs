namespace StartTls.Smtp.Gateway;

/// <summary>How the gateway protects its connection to the upstream server (<c>--upstream-tls</c>).</summary>
internal enum UpstreamTlsMode
{
    /// <summary>STARTTLS is required and the certificate validated; without it nothing is sent (the default).</summary>
    Required,

    /// <summary>STARTTLS when the upstream offers it, with any certificate; plain text otherwise.</summary>
    Opportunistic,

    /// <summary>Plain text only.</summary>
    None,
}
