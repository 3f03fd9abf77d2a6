namespace StartTls.Smtp.Authentication;

/// <summary>
/// XOAUTH2 (Google's and Microsoft's mechanism): <c>user=USER %x01 auth=Bearer TOKEN %x01 %x01</c> in one client
/// message, validated by <see cref="IOAuthTokenValidator"/>. A refused token gets a JSON error challenge
/// (<c>{"status":"401","schemes":"bearer"}</c>), and the exchange fails once the client has answered it.
/// </summary>
internal sealed class XOAuth2Mechanism() : BearerTokenMechanism(TryParse, Challenge)
{
    private static readonly byte[] Challenge = """{"status":"401","schemes":"bearer"}"""u8.ToArray();

    public override string Name => "XOAUTH2";

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
