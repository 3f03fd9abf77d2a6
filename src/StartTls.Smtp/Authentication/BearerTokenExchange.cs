namespace StartTls.Smtp.Authentication;

/// <summary>Parses one bearer-token client message (XOAUTH2 or OAUTHBEARER) into the claimed user and the token.</summary>
internal delegate bool BearerMessageParser(ReadOnlySpan<byte> message, out string? userName, out string token);

/// <summary>
/// The exchange both OAuth mechanisms share: one client message (prompted with an empty challenge if it was not on the
/// AUTH line), the token checked by <see cref="IOAuthTokenValidator"/>, and on refusal the mechanism's JSON error
/// challenge, whose answer is read before the 535 (RFC 7628 §3.2.3).
/// </summary>
internal sealed class BearerTokenExchange(SaslContext context, BearerMessageParser parse, byte[] errorChallenge) : ISaslExchange
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
        if (!parse(response.Span, out var userName, out var token))
        {
            return SaslStepResult.Failure(SaslReplies.Malformed);
        }

        var identity = await context.Options.OAuthTokenValidator!
            .ValidateAsync(context.Session, userName, token, cancellationToken).ConfigureAwait(false);
        return string.IsNullOrEmpty(identity)
            ? SaslStepResult.FailureWithChallenge(errorChallenge)
            : SaslStepResult.Success(identity);
    }
}
