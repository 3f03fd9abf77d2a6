using System.Collections.Concurrent;
using System.Text;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Authentication;

/// <summary>
/// Shared pieces of the AUTH wire tests: encodings, counting and failing credential hooks and a throttle. Everything is
/// nested here so the names cannot collide with the mechanism unit tests that live in the same namespace.
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
        => TlsTestKit.WithCertificate(o => UseEveryHook(o.Authentication, users, more));

    /// <summary>A plaintext server (no certificate) that allows AUTH without TLS, with every hook set.</summary>
    public static Action<SmtpServerOptions> InsecureServer(CountingUserStore users, Action<SmtpAuthenticationOptions>? more = null) => o =>
    {
        o.Authentication.AllowInsecureAuthentication = true;
        UseEveryHook(o.Authentication, users, more);
    };

    private static void UseEveryHook(SmtpAuthenticationOptions auth, CountingUserStore users, Action<SmtpAuthenticationOptions>? more)
    {
        auth.PasswordAuthenticator = users;
        auth.ScramCredentialProvider = users;
        auth.CramMd5SecretProvider = users;
        auth.OAuthTokenValidator = users;
        auth.EnableCramMd5 = true;
        more?.Invoke(auth);
    }

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
}
