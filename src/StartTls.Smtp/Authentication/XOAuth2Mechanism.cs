namespace StartTls.Smtp.Authentication;

/// <summary>
/// XOAUTH2 (Google's and Microsoft's mechanism): <c>user=USER %x01 auth=Bearer TOKEN %x01 %x01</c> in one client
/// message, validated by <see cref="IOAuthTokenValidator"/>. A refused token gets a JSON error challenge
/// (<c>{"status":"401","schemes":"bearer"}</c>), and the exchange fails once the client has answered it.
/// </summary>
internal sealed class XOAuth2Mechanism : SaslMechanism
{
    private static readonly byte[] ErrorChallenge = """{"status":"401","schemes":"bearer"}"""u8.ToArray();

    public override string Name => "XOAUTH2";

    public override bool IsClientFirst => true;

    public override bool ExposesSecret => true;

    public override bool IsAvailable(SaslContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Options.OAuthTokenValidator is not null;
    }

    public override ISaslExchange CreateExchange(SaslContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new BearerTokenExchange(context, TryParse, ErrorChallenge);
    }

    /// <summary>Parses <c>user=… %x01 auth=Bearer … %x01 %x01</c>; other keys are ignored.</summary>
    internal static bool TryParse(ReadOnlySpan<byte> bytes, out string userName, out string token)
    {
        userName = "";
        token = "";
        return OAuthBearerMechanism.TryDecode(bytes, out var text)
            && OAuthBearerMechanism.TryParsePairs(text, out var pairs)
            && pairs.TryGetValue("user", out userName!)
            && userName.Length > 0
            && pairs.TryGetValue("auth", out var auth)
            && OAuthBearerMechanism.TryParseBearer(auth, out token);
    }
}
