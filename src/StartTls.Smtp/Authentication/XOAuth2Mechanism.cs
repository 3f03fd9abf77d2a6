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
        return new Exchange(context);
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

    private sealed class Exchange(SaslContext context) : ISaslExchange
    {
        private bool _prompted;
        private bool _done;

        public async ValueTask<SaslStepResult> StepAsync(ReadOnlyMemory<byte> response, CancellationToken cancellationToken)
        {
            if (_done)
            {
                return SaslStepResult.Failure(SaslReplies.Malformed);
            }

            if (response.IsEmpty && !_prompted)
            {
                // No initial response: ask for it with an empty challenge (RFC 4954 §4).
                _prompted = true;
                return SaslStepResult.Continue([]);
            }

            _done = true;
            if (!TryParse(response.Span, out var userName, out var token))
            {
                return SaslStepResult.Failure(SaslReplies.Malformed);
            }

            var identity = await context.Options.OAuthTokenValidator!
                .ValidateAsync(context.Session, userName, token, cancellationToken).ConfigureAwait(false);
            return string.IsNullOrEmpty(identity)
                ? SaslStepResult.FailureWithChallenge(ErrorChallenge)
                : SaslStepResult.Success(identity);
        }
    }
}
