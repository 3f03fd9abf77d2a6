using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace StartTls.Smtp.Authentication;

/// <summary>
/// CRAM-MD5 (RFC 2195): the server sends <c>&lt;random.timestamp@host&gt;</c>, the client answers
/// <c>user SP hex(HMAC-MD5(secret, challenge))</c>. Server-first, so no initial response. The server must hold the
/// secret in the clear (<see cref="ICramMd5SecretProvider"/>), which is why it is off unless enabled.
/// </summary>
internal sealed class CramMd5Mechanism : SaslMechanism
{
    /// <summary>The HMAC key for unknown users, so they cost the same work as known ones.</summary>
    private static readonly byte[] DummySecret = RandomNumberGenerator.GetBytes(32);

    private readonly Func<SaslContext, string> _challengeFactory;

    /// <summary>Creates the mechanism.</summary>
    public CramMd5Mechanism()
        : this(null)
    {
    }

    /// <summary>Test hook: <paramref name="challengeFactory"/> supplies the challenge (RFC 2195's example, for instance).</summary>
    /// <param name="challengeFactory">Returns the challenge; <see langword="null"/> for <c>&lt;random.timestamp@ServerName&gt;</c>.</param>
    internal CramMd5Mechanism(Func<SaslContext, string>? challengeFactory)
    {
        _challengeFactory = challengeFactory ?? NewChallenge;
    }

    public override string Name => "CRAM-MD5";

    public override bool IsClientFirst => false;

    public override bool ExposesSecret => false;

    public override bool IsAvailable(SaslContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Options.CramMd5SecretProvider is not null && context.Options.EnableCramMd5;
    }

    public override ISaslExchange CreateExchange(SaslContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new Exchange(context, Encoding.UTF8.GetBytes(_challengeFactory(context)));
    }

    /// <summary>A msg-id style challenge (RFC 2195 §2): unpredictable, and unique by its random part and time stamp.</summary>
    private static string NewChallenge(SaslContext context)
    {
        var random = BitConverter.ToUInt64(RandomNumberGenerator.GetBytes(8));
        return string.Create(CultureInfo.InvariantCulture,
            $"<{random}.{DateTimeOffset.UtcNow.ToUnixTimeSeconds()}@{context.ServerName}>");
    }

    private sealed class Exchange(SaslContext context, byte[] challenge) : ISaslExchange
    {
        private const int DigestLength = 16;
        private int _step;

        public async ValueTask<SaslStepResult> StepAsync(ReadOnlyMemory<byte> response, CancellationToken cancellationToken)
        {
            switch (_step++)
            {
                case 0 when !response.IsEmpty:
                    // The engine refuses an initial response for server-first mechanisms; this is a second line of defence.
                    return SaslStepResult.Failure(SaslReplies.InitialResponseNotAllowed);
                case 0:
                    return SaslStepResult.Continue(challenge);
                case 1:
                    break;
                default:
                    return SaslStepResult.Failure(SaslReplies.Malformed);
            }

            if (!TryParse(response.Span, out var userName, out var digest))
            {
                return SaslStepResult.Failure(SaslReplies.Malformed);
            }

            var secret = await context.Options.CramMd5SecretProvider!
                .FindSecretAsync(context.Session, userName, cancellationToken).ConfigureAwait(false);
            var key = secret is null ? DummySecret : Encoding.UTF8.GetBytes(secret);
#pragma warning disable CA5351 // RFC 2195 defines CRAM-MD5 with HMAC-MD5; it is opt-in (EnableCramMd5).
            var expected = HMACMD5.HashData(key, challenge);
#pragma warning restore CA5351
            var valid = CryptographicOperations.FixedTimeEquals(expected, digest);
            if (secret is not null)
            {
                CryptographicOperations.ZeroMemory(key);
            }

            return valid && secret is not null ? SaslStepResult.Success(userName) : SaslStepResult.Failure();
        }

        /// <summary>
        /// <c>user SP digest</c>: the digest is 32 hex digits (RFC 2195 asks for lowercase; uppercase is tolerated); the user
        /// name is everything before the last space and may itself contain spaces.
        /// </summary>
        private static bool TryParse(ReadOnlySpan<byte> bytes, out string userName, out byte[] digest)
        {
            userName = "";
            digest = [];
            if (bytes.Contains((byte)0) || !System.Text.Unicode.Utf8.IsValid(bytes))
            {
                return false;
            }

            var space = bytes.LastIndexOf((byte)' ');
            if (space <= 0)
            {
                return false;
            }

            var hex = bytes[(space + 1)..];
            if (hex.Length != DigestLength * 2)
            {
                return false;
            }

            foreach (var b in hex)
            {
                if (!char.IsAsciiHexDigit((char)b))
                {
                    return false;
                }
            }

            digest = Convert.FromHexString(Encoding.ASCII.GetString(hex));
            userName = Encoding.UTF8.GetString(bytes[..space]);
            return true;
        }
    }
}
