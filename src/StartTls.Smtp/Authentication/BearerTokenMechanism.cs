namespace StartTls.Smtp.Authentication;

/// <summary>
/// What XOAUTH2 and OAUTHBEARER have in common: one client-first message carrying a bearer token, offered when an
/// <see cref="IOAuthTokenValidator"/> is configured, and run by <see cref="BearerTokenExchange"/>. A mechanism adds its
/// name, its message format and its JSON error challenge.
/// </summary>
/// <param name="parse">Parses the client's message into the claimed user (or none) and the token.</param>
/// <param name="errorChallenge">The challenge sent when the token is refused, before the 535.</param>
internal abstract class BearerTokenMechanism(BearerMessageParser parse, byte[] errorChallenge) : SaslMechanism
{
    public sealed override bool IsClientFirst => true;

    public sealed override bool ExposesSecret => true;

    public sealed override bool IsAvailable(SaslContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Options.OAuthTokenValidator is not null;
    }

    public sealed override ISaslExchange CreateExchange(SaslContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new BearerTokenExchange(context, parse, errorChallenge);
    }
}
