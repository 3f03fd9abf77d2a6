using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Authentication;

/// <summary>
/// SCRAM-SHA-256 and SCRAM-SHA-256-PLUS (RFC 5802, RFC 7677), server side, verified against the stored keys of
/// <see cref="IScramCredentialProvider"/> (the password is never needed). The -PLUS variant binds the exchange to the
/// TLS channel with <c>tls-unique</c> (TLS 1.2 only) or <c>tls-server-end-point</c> (RFC 5929).
/// </summary>
/// <remarks>
/// <para>
/// Authorization proxying is not supported: an authorization identity (<c>a=</c> in the GS2 header) is accepted only when
/// it equals the user name; any other value fails the exchange.
/// </para>
/// <para>
/// An unknown user is not revealed early: the server answers with a salt and iteration count derived from the user name
/// and a per-process secret (stable across attempts, like a real user's) and the exchange fails at the proof, with the
/// same reply as a wrong password.
/// </para>
/// <para>
/// When -PLUS is offered: a client that sees it picks it and binds with the type its TLS library prefers, tls-unique on
/// TLS 1.2 and tls-exporter (RFC 9266) on TLS 1.3. tls-exporter cannot be verified (.NET has no public TLS exporter), so
/// -PLUS is offered on TLS 1.2 when the platform provides tls-unique, and on TLS 1.3 only with
/// <see cref="SmtpAuthenticationOptions.AdvertiseScramPlusOnTls13"/>, for clients that bind with tls-server-end-point.
/// </para>
/// <para>
/// Channel binding policy (RFC 5802 §6, §7): the -PLUS mechanism requires the <c>p</c> flag. A binding type this session
/// cannot verify (tls-exporter, tls-unique outside TLS 1.2, unknown names) runs the exchange to its end and fails with
/// the server-final message <c>e=unsupported-channel-binding-type</c>. The plain mechanism refuses <c>p=</c>; it accepts
/// the <c>y</c> flag ("client supports binding but thinks the server does not") unless this session offers -PLUS, where
/// <c>y</c> means someone removed -PLUS from the list, and the exchange fails with
/// <c>e=server-does-support-channel-binding</c>. A server-final error is sent as a 334 challenge and the exchange fails
/// with <c>535 5.7.8</c> once the client answers (RFC 4954 §4). The user name is used as sent, without SASLprep.
/// </para>
/// </remarks>
internal sealed class ScramSha256Mechanism : SaslMechanism
{
    private const string PlusName = "SCRAM-SHA-256-PLUS";
    private const int HashLength = 32;
    private const int FakeIterations = 4096;

    /// <summary>Keys the fake credentials of unknown users; never leaves the process.</summary>
    private static readonly byte[] ProcessSecret = RandomNumberGenerator.GetBytes(32);

    private readonly bool _channelBinding;
    private readonly Func<string> _nonceFactory;

    /// <summary>Creates SCRAM-SHA-256, or SCRAM-SHA-256-PLUS when <paramref name="channelBinding"/> is true.</summary>
    /// <param name="channelBinding">True for the -PLUS variant.</param>
    public ScramSha256Mechanism(bool channelBinding)
        : this(channelBinding, null)
    {
    }

    /// <summary>Test hook: <paramref name="nonceFactory"/> supplies the server's part of the nonce.</summary>
    /// <param name="channelBinding">True for the -PLUS variant.</param>
    /// <param name="nonceFactory">Returns printable ASCII without commas; <see langword="null"/> for 18 random bytes in base64.</param>
    internal ScramSha256Mechanism(bool channelBinding, Func<string>? nonceFactory)
    {
        _channelBinding = channelBinding;
        _nonceFactory = nonceFactory ?? NewNonce;
    }

    public override string Name => _channelBinding ? PlusName : "SCRAM-SHA-256";

    public override bool IsClientFirst => true;

    public override bool ExposesSecret => false;

    public override bool RequiresTls => _channelBinding;

    public override bool IsAvailable(SaslContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Options.ScramCredentialProvider is null)
        {
            return false;
        }

        return !_channelBinding || (context.Session.IsSecure && CanVerifyLikelyBinding(context));
    }

    public override ISaslExchange CreateExchange(SaslContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new Exchange(this, context);
    }

    /// <summary>
    /// True when this session can verify the binding a -PLUS client is likely to send: tls-unique on TLS 1.2. On TLS 1.3
    /// clients send tls-exporter, which cannot be verified, so only when the operator opts in for clients that bind with
    /// tls-server-end-point.
    /// </summary>
    private static bool CanVerifyLikelyBinding(SaslContext context)
    {
        if (context.Session.Tls?.Protocol == SslProtocols.Tls12)
        {
            return context.GetChannelBinding(ChannelBinding.TlsUniqueType) is not null;
        }

        return context.Options.AdvertiseScramPlusOnTls13 && context.GetChannelBinding(ChannelBinding.TlsServerEndPointType) is not null;
    }

    /// <summary>True for the binding types this server knows how to verify; whether this session has the data is asked separately.</summary>
    private static bool IsVerifiableType(string? type)
        => type is ChannelBinding.TlsUniqueType or ChannelBinding.TlsServerEndPointType;

    /// <summary>18 random bytes in base64: 24 printable characters, no comma, no padding.</summary>
    private static string NewNonce() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));

    /// <summary>True when this session advertises SCRAM-SHA-256-PLUS (so a <c>y</c> flag means a downgrade).</summary>
    private static bool OffersPlus(SaslContext context)
    {
        foreach (var mechanism in context.Options.Mechanisms)
        {
            if (string.Equals(mechanism.Name, PlusName, StringComparison.OrdinalIgnoreCase)
                && (!mechanism.RequiresTls || context.Session.IsSecure)
                && mechanism.IsAvailable(context))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A credential for an unknown user: stable per user name and process, and matching no proof.</summary>
    private static ScramCredential FakeCredential(string userName)
    {
        var name = Encoding.UTF8.GetBytes(userName);
        var salt = HMACSHA256.HashData(ProcessSecret, (byte[])[.. "salt\0"u8, .. name])[..16];
        var storedKey = HMACSHA256.HashData(ProcessSecret, (byte[])[.. "stored\0"u8, .. name]);
        var serverKey = HMACSHA256.HashData(ProcessSecret, (byte[])[.. "server\0"u8, .. name]);
        return new ScramCredential(salt, FakeIterations, storedKey, serverKey);
    }

    private sealed class Exchange(ScramSha256Mechanism mechanism, SaslContext context) : ISaslExchange
    {
        private int _step;
        private bool _prompted;
        private ClientFirst? _first;
        private string? _serverFirst;
        private string? _nonce;
        private ScramCredential? _credential;
        private bool _knownUser;

        /// <summary>An RFC 5802 server-error value found in client-first; sent as the server-final message.</summary>
        private string? _serverError;

        public async ValueTask<SaslStepResult> StepAsync(ReadOnlyMemory<byte> response, CancellationToken cancellationToken)
        {
            switch (_step)
            {
                case 0 when response.IsEmpty && !_prompted:
                    // No initial response: ask for the client-first message with an empty challenge.
                    _prompted = true;
                    return SaslStepResult.Continue([]);
                case 0:
                    _step = 1;
                    return await ClientFirstAsync(response.Span.ToArray(), cancellationToken).ConfigureAwait(false);
                case 1:
                    _step = 2;
                    return ClientFinal(response.Span);
                default:
                    return SaslStepResult.Failure(SaslReplies.Malformed);
            }
        }

        private async ValueTask<SaslStepResult> ClientFirstAsync(byte[] response, CancellationToken cancellationToken)
        {
            if (!TryDecode(response, out var text))
            {
                return SaslStepResult.Failure(SaslReplies.Malformed);
            }

            if (!ClientFirst.TryParse(text, out var first))
            {
                return SaslStepResult.Failure(SaslReplies.Malformed);
            }

            if (!BindingFlagAcceptable(first, out _serverError))
            {
                return SaslStepResult.Failure();
            }

            if (first.AuthorizationIdentity is { } authzid && !string.Equals(authzid, first.UserName, StringComparison.Ordinal))
            {
                return SaslStepResult.Failure(); // no authorization proxying
            }

            var credential = await context.Options.ScramCredentialProvider!
                .FindAsync(context.Session, first.UserName, cancellationToken).ConfigureAwait(false);
            _knownUser = credential is not null;
            _credential = credential ?? FakeCredential(first.UserName);
            _first = first;
            _nonce = first.ClientNonce + mechanism._nonceFactory();
            _serverFirst = string.Create(CultureInfo.InvariantCulture,
                $"r={_nonce},s={Convert.ToBase64String(_credential.Salt)},i={_credential.Iterations}");
            return SaslStepResult.Continue(Encoding.UTF8.GetBytes(_serverFirst));
        }

        /// <summary>
        /// False to fail at once; true to go on, with <paramref name="serverError"/> set when the exchange must end in
        /// that RFC 5802 server-error (the place the RFC gives binding errors is the server-final message).
        /// </summary>
        private bool BindingFlagAcceptable(ClientFirst first, out string? serverError)
        {
            serverError = null;
            if (mechanism._channelBinding)
            {
                // The client chose -PLUS: it must bind, with a type this session can verify.
                if (first.Flag != 'p')
                {
                    return false;
                }

                if (!IsVerifiableType(first.BindingName) || context.GetChannelBinding(first.BindingName!) is null)
                {
                    serverError = "unsupported-channel-binding-type";
                }

                return true;
            }

            switch (first.Flag)
            {
                case 'n':
                    return true;
                case 'y':
                    // The client can bind but saw no -PLUS; if this session offers it, someone removed it from the list.
                    if (OffersPlus(context))
                    {
                        serverError = "server-does-support-channel-binding";
                    }

                    return true;
                default:
                    return false; // binding requested on the non-PLUS mechanism
            }
        }

        private SaslStepResult ClientFinal(ReadOnlySpan<byte> response)
        {
            if (_first is null || !TryDecode(response, out var text))
            {
                return SaslStepResult.Failure(SaslReplies.Malformed);
            }

            // c=cbind,r=nonce[,ext...],p=proof — the proof is last (RFC 5802 §7).
            var parts = text.Split(',');
            if (parts.Length < 3
                || !parts[0].StartsWith("c=", StringComparison.Ordinal)
                || !parts[1].StartsWith("r=", StringComparison.Ordinal)
                || !parts[^1].StartsWith("p=", StringComparison.Ordinal))
            {
                return SaslStepResult.Failure(SaslReplies.Malformed);
            }

            for (var i = 2; i < parts.Length - 1; i++)
            {
                if (!IsAttributeValue(parts[i]))
                {
                    return SaslStepResult.Failure(SaslReplies.Malformed);
                }
            }

            if (!TryFromBase64(parts[0].AsSpan(2), out var binding)
                || !TryFromBase64(parts[^1].AsSpan(2), out var proof)
                || proof.Length != HashLength)
            {
                return SaslStepResult.Failure(SaslReplies.Malformed);
            }

            if (!string.Equals(parts[1][2..], _nonce, StringComparison.Ordinal))
            {
                return SaslStepResult.Failure();
            }

            if (_serverError is { } error)
            {
                return SaslStepResult.FailureWithChallenge(Encoding.ASCII.GetBytes("e=" + error));
            }

            if (!BindingMatches(binding))
            {
                return SaslStepResult.Failure();
            }

            var withoutProof = text[..(text.Length - parts[^1].Length - 1)];
            var authMessage = Encoding.UTF8.GetBytes(_first.Bare + "," + _serverFirst + "," + withoutProof);
            var credential = _credential!;

            // ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); the client is genuine if H(ClientKey) == StoredKey.
            var clientKey = HMACSHA256.HashData(credential.StoredKey, authMessage);
            for (var i = 0; i < clientKey.Length; i++)
            {
                clientKey[i] ^= proof[i];
            }

            var valid = CryptographicOperations.FixedTimeEquals(SHA256.HashData(clientKey), credential.StoredKey);
            CryptographicOperations.ZeroMemory(clientKey);
            if (!valid || !_knownUser)
            {
                return SaslStepResult.Failure();
            }

            var serverSignature = HMACSHA256.HashData(credential.ServerKey, authMessage);
            var serverFinal = Encoding.ASCII.GetBytes("v=" + Convert.ToBase64String(serverSignature));
            return SaslStepResult.Success(_first.AuthorizationIdentity ?? _first.UserName, serverFinal);
        }

        /// <summary>c= must carry the GS2 header exactly as sent, followed for <c>p=</c> by this channel's binding data.</summary>
        private bool BindingMatches(byte[] binding)
        {
            var header = Encoding.UTF8.GetBytes(_first!.Gs2Header);
            byte[] expected;
            if (_first.Flag == 'p')
            {
                if (context.GetChannelBinding(_first.BindingName!) is not { } data)
                {
                    return false;
                }

                expected = [.. header, .. data];
            }
            else
            {
                expected = header;
            }

            return CryptographicOperations.FixedTimeEquals(binding, expected);
        }
    }

    /// <summary>The parsed client-first message (RFC 5802 §7).</summary>
    private sealed class ClientFirst
    {
        private ClientFirst(char flag, string? bindingName, string? authorizationIdentity, string gs2Header, string bare, string userName, string clientNonce)
        {
            Flag = flag;
            BindingName = bindingName;
            AuthorizationIdentity = authorizationIdentity;
            Gs2Header = gs2Header;
            Bare = bare;
            UserName = userName;
            ClientNonce = clientNonce;
        }

        /// <summary><c>n</c>, <c>y</c> or <c>p</c>.</summary>
        public char Flag { get; }

        /// <summary>The cb-name after <c>p=</c>.</summary>
        public string? BindingName { get; }

        public string? AuthorizationIdentity { get; }

        /// <summary>The GS2 header as sent, including its trailing comma.</summary>
        public string Gs2Header { get; }

        /// <summary>client-first-message-bare, as sent.</summary>
        public string Bare { get; }

        public string UserName { get; }

        public string ClientNonce { get; }

        /// <summary>Parses the message; false when it is malformed or starts with a mandatory extension (<c>m=</c>), which we do not know.</summary>
        public static bool TryParse(string text, [NotNullWhen(true)] out ClientFirst? first)
        {
            first = null;

            // gs2-cbind-flag ","
            char flag;
            string? bindingName = null;
            int position;
            if (text.StartsWith("n,", StringComparison.Ordinal) || text.StartsWith("y,", StringComparison.Ordinal))
            {
                flag = text[0];
                position = 2;
            }
            else if (text.StartsWith("p=", StringComparison.Ordinal))
            {
                var comma = text.IndexOf(',', 2);
                if (comma < 0)
                {
                    return false;
                }

                bindingName = text[2..comma];
                if (bindingName.Length == 0 || !bindingName.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-'))
                {
                    return false;
                }

                flag = 'p';
                position = comma + 1;
            }
            else
            {
                return false;
            }

            // [ "a=" saslname ] ","
            var end = text.IndexOf(',', position);
            if (end < 0)
            {
                return false;
            }

            string? authzid = null;
            var authzPart = text.AsSpan(position, end - position);
            if (!authzPart.IsEmpty)
            {
                if (!authzPart.StartsWith("a=", StringComparison.Ordinal) || !SaslName.TryDecode(authzPart[2..], out authzid))
                {
                    return false;
                }
            }

            var header = text[..(end + 1)];
            var bare = text[(end + 1)..];

            // [reserved-mext ","] username "," nonce ["," extensions]: "m=" (RFC 5802 §5.1) fails as not "n=".
            var attributes = bare.Split(',');
            if (attributes.Length < 2
                || !attributes[0].StartsWith("n=", StringComparison.Ordinal)
                || !SaslName.TryDecode(attributes[0].AsSpan(2), out var userName)
                || !attributes[1].StartsWith("r=", StringComparison.Ordinal))
            {
                return false;
            }

            var nonce = attributes[1][2..];
            if (nonce.Length == 0 || !nonce.All(c => c is >= '!' and <= '~'))
            {
                return false; // printable ASCII except ",", which the split already excluded
            }

            for (var i = 2; i < attributes.Length; i++)
            {
                if (!IsAttributeValue(attributes[i]))
                {
                    return false;
                }
            }

            first = new ClientFirst(flag, bindingName, authzid, header, bare, userName!, nonce);
            return true;
        }
    }

    /// <summary>attr-val: ALPHA "=" 1*value-char.</summary>
    private static bool IsAttributeValue(string attribute)
        => attribute.Length >= 3 && char.IsAsciiLetter(attribute[0]) && attribute[1] == '=';

    private static bool TryDecode(ReadOnlySpan<byte> bytes, out string text)
    {
        text = "";
        if (bytes.IsEmpty || bytes.Contains((byte)0) || !System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return false;
        }

        text = Encoding.UTF8.GetString(bytes);
        return true;
    }

    private static bool TryFromBase64(ReadOnlySpan<char> encoded, out byte[] bytes)
    {
        bytes = [];
        if (encoded.IsEmpty)
        {
            return true;
        }

        var buffer = new byte[encoded.Length / 4 * 3 + 3];
        if (!Convert.TryFromBase64Chars(encoded, buffer, out var written)
            || encoded.ContainsAny(" \t\r\n"))
        {
            return false;
        }

        bytes = buffer[..written];
        return true;
    }
}
