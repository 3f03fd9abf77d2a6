using System.Text;

namespace StartTls.Smtp.Authentication;

/// <summary>PLAIN (RFC 4616): <c>[authzid] NUL authcid NUL passwd</c>, in one client-first message.</summary>
internal sealed class PlainMechanism : SaslMechanism
{
    public override string Name => "PLAIN";

    public override bool IsClientFirst => true;

    public override bool ExposesSecret => true;

    public override bool IsAvailable(SaslContext context) => context.Options.PasswordAuthenticator is not null;

    public override ISaslExchange CreateExchange(SaslContext context) => new Exchange(context);

    private sealed class Exchange(SaslContext context) : ISaslExchange
    {
        private bool _prompted;

        public async ValueTask<SaslStepResult> StepAsync(ReadOnlyMemory<byte> response, CancellationToken cancellationToken)
        {
            if (response.IsEmpty && !_prompted)
            {
                // No initial response: ask for it with an empty challenge (RFC 4954 §4, "334 ").
                _prompted = true;
                return SaslStepResult.Continue([]);
            }

            if (!TryParse(response.Span, out var authorizationIdentity, out var userName, out var password))
            {
                return SaslStepResult.Failure(SaslReplies.Malformed);
            }

            var identity = await context.Options.PasswordAuthenticator!
                .AuthenticateAsync(context.Session, userName, password, authorizationIdentity, cancellationToken).ConfigureAwait(false);
            return identity is null ? SaslStepResult.Failure() : SaslStepResult.Success(identity);
        }
    }

    /// <summary>Splits the message into its three fields; exactly two NULs, non-empty authcid and passwd, valid UTF-8.</summary>
    internal static bool TryParse(ReadOnlySpan<byte> message, out string? authorizationIdentity, out string userName, out string password)
    {
        authorizationIdentity = null;
        userName = "";
        password = "";
        var first = message.IndexOf((byte)0);
        if (first < 0)
        {
            return false;
        }

        var rest = message[(first + 1)..];
        var second = rest.IndexOf((byte)0);
        if (second <= 0)
        {
            return false;
        }

        var passwordBytes = rest[(second + 1)..];
        if (passwordBytes.IsEmpty || passwordBytes.Contains((byte)0))
        {
            return false;
        }

        var authzid = message[..first];
        var authcid = rest[..second];
        if (!System.Text.Unicode.Utf8.IsValid(message))
        {
            return false;
        }

        authorizationIdentity = authzid.IsEmpty ? null : Encoding.UTF8.GetString(authzid);
        userName = Encoding.UTF8.GetString(authcid);
        password = Encoding.UTF8.GetString(passwordBytes);
        return true;
    }
}
