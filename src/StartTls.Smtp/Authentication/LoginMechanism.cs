using System.Text;

namespace StartTls.Smtp.Authentication;

/// <summary>LOGIN: the server asks "Username:" then "Password:"; an initial response carries the user name.</summary>
internal sealed class LoginMechanism : SaslMechanism
{
    private static readonly byte[] UserNamePrompt = "Username:"u8.ToArray();
    private static readonly byte[] PasswordPrompt = "Password:"u8.ToArray();

    public override string Name => "LOGIN";

    // Clients may send the user name on the AUTH line; the password always comes after a prompt.
    public override bool IsClientFirst => true;

    public override bool ExposesSecret => true;

    public override bool IsAvailable(SaslContext context) => context.Options.PasswordAuthenticator is not null;

    public override ISaslExchange CreateExchange(SaslContext context) => new Exchange(context);

    private sealed class Exchange(SaslContext context) : ISaslExchange
    {
        private int _step;
        private string? _userName;

        public async ValueTask<SaslStepResult> StepAsync(ReadOnlyMemory<byte> response, CancellationToken cancellationToken)
        {
            switch (_step++)
            {
                case 0 when response.IsEmpty:
                    _step = 1;
                    return SaslStepResult.Continue(UserNamePrompt);
                case 0:
                case 1:
                    _step = 2;
                    if (!TryDecode(response.Span, out _userName) || _userName.Length == 0)
                    {
                        return SaslStepResult.Failure(SaslReplies.Malformed);
                    }

                    return SaslStepResult.Continue(PasswordPrompt);
                default:
                    if (!TryDecode(response.Span, out var password) || password.Length == 0)
                    {
                        return SaslStepResult.Failure(SaslReplies.Malformed);
                    }

                    var identity = await context.Options.PasswordAuthenticator!
                        .AuthenticateAsync(context.Session, _userName!, password, null, cancellationToken).ConfigureAwait(false);
                    return identity is null ? SaslStepResult.Failure() : SaslStepResult.Success(identity);
            }
        }

        private static bool TryDecode(ReadOnlySpan<byte> bytes, out string value)
        {
            value = "";
            if (bytes.Contains((byte)0) || !System.Text.Unicode.Utf8.IsValid(bytes))
            {
                return false;
            }

            value = Encoding.UTF8.GetString(bytes);
            return true;
        }
    }
}
