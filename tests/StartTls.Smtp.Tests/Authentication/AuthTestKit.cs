using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Microsoft.Extensions.Logging;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Authentication;

/// <summary>
/// Shared pieces of the AUTH wire tests: encodings, counting and failing credential hooks, a throttle, a store that
/// records the session's identity, a log capture, and a small SCRAM-SHA-256 client. Everything is nested here so the
/// names cannot collide with the mechanism unit tests that live in the same namespace.
/// </summary>
internal static class AuthTestKit
{
    public const string User = "alice";
    public const string Password = "secret";
    public const string Token = "tok-alice";

    public static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    public static string B64(byte[] bytes) => Convert.ToBase64String(bytes);

    public static string FromB64(string text) => Encoding.UTF8.GetString(Convert.FromBase64String(text));

    /// <summary>The PLAIN message <c>authzid NUL authcid NUL passwd</c>, base64-encoded.</summary>
    public static string Plain(string user, string password, string authzid = "") => B64(authzid + "\0" + user + "\0" + password);

    /// <summary>The users every test knows: alice/secret, and the token tok-alice for alice.</summary>
    public static CountingUserStore NewUsers() => new(new InMemoryUserStore().AddUser(User, Password).AddToken(Token, User));

    /// <summary>
    /// A STARTTLS-capable server (mx.test certificate from the test CA) with every credential hook set to
    /// <paramref name="users"/>, CRAM-MD5 enabled, plus whatever else the test configures.
    /// </summary>
    public static Action<SmtpServerOptions> TlsServer(CountingUserStore users, Action<SmtpAuthenticationOptions>? more = null)
        => TlsTestKit.WithCertificate(o =>
        {
            var auth = o.Authentication;
            auth.PasswordAuthenticator = users;
            auth.ScramCredentialProvider = users;
            auth.CramMd5SecretProvider = users;
            auth.OAuthTokenValidator = users;
            auth.EnableCramMd5 = true;
            more?.Invoke(auth);
        });

    /// <summary>A plaintext server (no certificate) that allows AUTH without TLS, with every hook set.</summary>
    public static Action<SmtpServerOptions> InsecureServer(CountingUserStore users, Action<SmtpAuthenticationOptions>? more = null) => o =>
    {
        var auth = o.Authentication;
        auth.PasswordAuthenticator = users;
        auth.ScramCredentialProvider = users;
        auth.CramMd5SecretProvider = users;
        auth.OAuthTokenValidator = users;
        auth.EnableCramMd5 = true;
        auth.AllowInsecureAuthentication = true;
        more?.Invoke(auth);
    };

    /// <summary>Connect, EHLO, STARTTLS, handshake (validating against the test CA), EHLO again; returns both layers.</summary>
    public static async Task<(RawSmtpClient Raw, TlsSmtpClient Tls, string Ehlo)> ConnectTlsAsync(TestServer server)
    {
        var (raw, tls) = await server.ConnectWithStartTlsAsync();
        var ehlo = await tls.EhloAsync();
        ehlo.Should().StartWith("250-");
        return (raw, tls, ehlo);
    }

    /// <summary>The mechanisms listed on the EHLO reply's AUTH line, or an empty list when there is none.</summary>
    public static IReadOnlyList<string> AuthLine(string ehloReply)
    {
        foreach (var line in ehloReply.Split("\r\n"))
        {
            var text = line.Length > 4 ? line[4..] : "";
            if (text.StartsWith("AUTH ", StringComparison.Ordinal))
            {
                return text[5..].Split(' ');
            }
        }

        return [];
    }

    /// <summary>
    /// Wraps an <see cref="InMemoryUserStore"/> and counts every call of every hook. <see cref="Failure"/> makes each
    /// hook throw (a database that is down); <see cref="Delay"/> slows each call.
    /// </summary>
    public sealed class CountingUserStore(InMemoryUserStore inner) : IPasswordAuthenticator, IScramCredentialProvider, ICramMd5SecretProvider, IOAuthTokenValidator
    {
        private int _passwordCalls;
        private int _scramCalls;
        private int _cramCalls;
        private int _tokenCalls;

        public InMemoryUserStore Inner { get; } = inner;

        public Exception? Failure { get; set; }

        public int PasswordCalls => Volatile.Read(ref _passwordCalls);

        public int TotalCalls => Volatile.Read(ref _passwordCalls) + Volatile.Read(ref _scramCalls) + Volatile.Read(ref _cramCalls) + Volatile.Read(ref _tokenCalls);

        /// <summary>The user names the password hook was asked about, in order.</summary>
        public ConcurrentQueue<string> PasswordUsers { get; } = new();

        public ValueTask<string?> AuthenticateAsync(SmtpSession session, string userName, string password, string? authorizationIdentity, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _passwordCalls);
            PasswordUsers.Enqueue(userName);
            ThrowIfFailing();
            return Inner.AuthenticateAsync(session, userName, password, authorizationIdentity, cancellationToken);
        }

        public ValueTask<ScramCredential?> FindAsync(SmtpSession session, string userName, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _scramCalls);
            ThrowIfFailing();
            return Inner.FindAsync(session, userName, cancellationToken);
        }

        public ValueTask<string?> FindSecretAsync(SmtpSession session, string userName, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _cramCalls);
            ThrowIfFailing();
            return Inner.FindSecretAsync(session, userName, cancellationToken);
        }

        public ValueTask<string?> ValidateAsync(SmtpSession session, string? userName, string token, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _tokenCalls);
            ThrowIfFailing();
            return Inner.ValidateAsync(session, userName, token, cancellationToken);
        }

        private void ThrowIfFailing()
        {
            if (Failure is { } failure)
            {
                throw failure;
            }
        }
    }

    /// <summary>Counts attempts and outcomes; refuses every attempt after the first <see cref="Allow"/> with <see cref="Refusal"/>.</summary>
    public sealed class CountingThrottle : IAuthenticationThrottle
    {
        private int _attempts;
        private int _successes;
        private int _failures;

        public int Allow { get; set; } = int.MaxValue;

        public SmtpReply Refusal { get; set; } = new(454, "4.7.0", "Too many authentication attempts from your address, try later");

        public bool ThrowOnAttempt { get; set; }

        public int Attempts => Volatile.Read(ref _attempts);

        public int Successes => Volatile.Read(ref _successes);

        public int Failures => Volatile.Read(ref _failures);

        public ValueTask<SmtpReply?> OnAttemptAsync(SmtpSession session, CancellationToken cancellationToken)
        {
            var attempt = Interlocked.Increment(ref _attempts);
            if (ThrowOnAttempt)
            {
                throw new InvalidOperationException("throttle store unavailable");
            }

            return ValueTask.FromResult(attempt > Allow ? Refusal : null);
        }

        public ValueTask OnCompletedAsync(SmtpSession session, bool succeeded)
        {
            Interlocked.Increment(ref succeeded ? ref _successes : ref _failures);
            return ValueTask.CompletedTask;
        }
    }

    /// <summary>The session facts that matter to AUTH, taken when a message is stored.</summary>
    public sealed record AuthSnapshot(string? Identity, string? Mechanism, string ProtocolName, bool IsSecure, IReadOnlyDictionary<string, string?> MailParameters, string Content);

    /// <summary>A store that records the AUTH facts of the session with each message.</summary>
    public sealed class IdentityCapturingStore : IMessageStore
    {
        public ConcurrentQueue<AuthSnapshot> Snapshots { get; } = new();

        public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
        {
            using var reader = new StreamReader(content, Encoding.UTF8);
            var text = await reader.ReadToEndAsync(cancellationToken);
            Snapshots.Enqueue(new AuthSnapshot(session.AuthenticatedIdentity, session.AuthenticationMechanism, session.ProtocolName,
                session.IsSecure, new Dictionary<string, string?>(envelope.MailParameters), text));
            return SmtpReply.MessageAccepted;
        }
    }

    /// <summary>Captures every log event the server writes: the formatted text, every structured value, scopes and exceptions.</summary>
    public sealed class LogCapture : ILoggerProvider, ILoggerFactory
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines;

        public string All => string.Join("\n", _lines);

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        private void Add(string line) => _lines.Enqueue(line);

        private static string Describe(object? state)
        {
            var text = new StringBuilder().Append(state);
            if (state is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    text.Append(" | ").Append(key).Append('=').Append(value);
                }
            }

            return text.ToString();
        }

        private sealed class Logger(LogCapture owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull
            {
                owner.Add("scope " + category + ": " + Describe(state));
                return null;
            }

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
                => owner.Add($"{logLevel} {category} [{eventId.Id}] {formatter(state, exception)} || {Describe(state)} || {exception}");
        }
    }

    /// <summary>
    /// The client side of SCRAM-SHA-256 (RFC 5802, RFC 7677), enough to drive the server over raw sockets: builds
    /// client-first and client-final, and checks the server's signature. <paramref name="channelBinding"/> makes it
    /// the -PLUS variant with <c>tls-server-end-point</c>; <paramref name="gs2Header"/> overrides the GS2 header
    /// (<c>p=tls-unique,,</c>, <c>y,,</c>), and the binding data still follows it in c=.
    /// </summary>
    public sealed class ScramClient(string user, string password, byte[]? channelBinding = null, string? gs2Header = null)
    {
        private readonly string _nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(18));
        private string _gs2 = "";
        private string _bare = "";
        private byte[] _serverSignature = [];

        public string ClientFirst()
        {
            _gs2 = gs2Header ?? (channelBinding is null ? "n,," : "p=tls-server-end-point,,");
            _bare = "n=" + user + ",r=" + _nonce;
            return _gs2 + _bare;
        }

        public string ClientFinal(string serverFirst)
        {
            var fields = serverFirst.Split(',').ToDictionary(f => f[..1], f => f[2..]);
            fields["r"].Should().StartWith(_nonce, "the server's nonce extends the client's");
            var salted = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), Convert.FromBase64String(fields["s"]),
                int.Parse(fields["i"], System.Globalization.CultureInfo.InvariantCulture), HashAlgorithmName.SHA256, 32);
            var clientKey = HMACSHA256.HashData(salted, "Client Key"u8);
            var storedKey = SHA256.HashData(clientKey);
            var cbind = Convert.ToBase64String([.. Encoding.ASCII.GetBytes(_gs2), .. channelBinding ?? []]);
            var withoutProof = "c=" + cbind + ",r=" + fields["r"];
            var authMessage = Encoding.UTF8.GetBytes(_bare + "," + serverFirst + "," + withoutProof);
            var signature = HMACSHA256.HashData(storedKey, authMessage);
            for (var i = 0; i < clientKey.Length; i++)
            {
                clientKey[i] ^= signature[i];
            }

            _serverSignature = HMACSHA256.HashData(HMACSHA256.HashData(salted, "Server Key"u8), authMessage);
            return withoutProof + ",p=" + Convert.ToBase64String(clientKey);
        }

        public bool IsServerFinalValid(string serverFinal) => serverFinal == "v=" + Convert.ToBase64String(_serverSignature);

        /// <summary>RFC 5929 tls-server-end-point for the test certificates (ECDSA with SHA-256): SHA-256 of the DER.</summary>
        public static byte[] TlsServerEndPoint(X509Certificate2 serverCertificate) => SHA256.HashData(serverCertificate.RawData);
    }
}
