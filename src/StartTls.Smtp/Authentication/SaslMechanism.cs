namespace StartTls.Smtp.Authentication;

/// <summary>
/// A SASL mechanism the server offers (PLAIN, LOGIN, SCRAM-SHA-256, …). Add custom ones to
/// <see cref="SmtpAuthenticationOptions.Mechanisms"/>.
/// </summary>
public abstract class SaslMechanism
{
    /// <summary>The mechanism name as advertised, such as <c>PLAIN</c>.</summary>
    public abstract string Name { get; }

    /// <summary>True when the client speaks first, so an initial response on the AUTH line is allowed (RFC 4422 §3.3).</summary>
    public abstract bool IsClientFirst { get; }

    /// <summary>True when the password crosses the wire in the clear (PLAIN, LOGIN) or a bearer token does: such mechanisms need TLS unless the operator opts in.</summary>
    public abstract bool ExposesSecret { get; }

    /// <summary>True when the mechanism binds to the TLS channel (the -PLUS variants): offered only under TLS.</summary>
    public virtual bool RequiresTls => false;

    /// <summary>Whether the mechanism can run with the configured credential hooks on this session (for example SCRAM needs stored keys).</summary>
    /// <param name="context">The session and the server's credential hooks.</param>
    /// <returns>True to advertise and accept it.</returns>
    public abstract bool IsAvailable(SaslContext context);

    /// <summary>Starts one exchange.</summary>
    /// <param name="context">The session and the server's credential hooks.</param>
    /// <returns>The exchange.</returns>
    public abstract ISaslExchange CreateExchange(SaslContext context);
}
