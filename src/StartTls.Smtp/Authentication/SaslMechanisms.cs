namespace StartTls.Smtp.Authentication;

/// <summary>The built-in SASL mechanisms.</summary>
public static class SaslMechanisms
{
    /// <summary>PLAIN (RFC 4616), with an optional authorization identity.</summary>
    public static SaslMechanism Plain { get; } = new PlainMechanism();

    /// <summary>LOGIN (draft-murchison-sasl-login): user name and password in two prompts.</summary>
    public static SaslMechanism Login { get; } = new LoginMechanism();

    /// <summary>CRAM-MD5 (RFC 2195); offered only when enabled.</summary>
    public static SaslMechanism CramMd5 { get; } = new CramMd5Mechanism();

    /// <summary>SCRAM-SHA-256 (RFC 7677, RFC 5802).</summary>
    public static SaslMechanism ScramSha256 { get; } = new ScramSha256Mechanism(channelBinding: false);

    /// <summary>SCRAM-SHA-256-PLUS: SCRAM bound to the TLS channel (<c>tls-server-end-point</c>, RFC 5929).</summary>
    public static SaslMechanism ScramSha256Plus { get; } = new ScramSha256Mechanism(channelBinding: true);

    /// <summary>OAUTHBEARER (RFC 7628).</summary>
    public static SaslMechanism OAuthBearer { get; } = new OAuthBearerMechanism();

    /// <summary>XOAUTH2 (Google's and Microsoft's OAuth 2.0 mechanism).</summary>
    public static SaslMechanism XOAuth2 { get; } = new XOAuth2Mechanism();

    /// <summary>A new list of the built-in mechanisms in their advertised order, strongest first.</summary>
    /// <returns>The list.</returns>
    public static IList<SaslMechanism> CreateDefault() => [ScramSha256Plus, ScramSha256, Plain, Login, OAuthBearer, XOAuth2, CramMd5];
}
