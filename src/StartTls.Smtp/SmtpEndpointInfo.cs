namespace StartTls.Smtp;

/// <summary>The endpoint a session arrived on, as <see cref="SmtpSession.Endpoint"/> reports it; immutable.</summary>
public sealed class SmtpEndpointInfo
{
    internal SmtpEndpointInfo(string name, bool implicitTls, bool requireTls)
    {
        Name = name;
        ImplicitTls = implicitTls;
        RequireTls = requireTls;
    }

    /// <summary>
    /// The endpoint's <see cref="SmtpEndpointOptions.Name"/> (or its address when unnamed); <c>pipe</c> for a connection
    /// served without endpoint options.
    /// </summary>
    public string Name { get; }

    /// <summary>True on an implicit-TLS endpoint (RFC 8314).</summary>
    public bool ImplicitTls { get; }

    /// <summary>True on an endpoint that takes only EHLO, HELO, STARTTLS, NOOP, RSET and QUIT before TLS.</summary>
    public bool RequireTls { get; }

    /// <inheritdoc />
    public override string ToString() => Name;
}
