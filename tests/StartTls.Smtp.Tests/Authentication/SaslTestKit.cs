using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using System.Text;
using StartTls.Smtp.Authentication;

namespace StartTls.Smtp.Tests.Authentication;

/// <summary>Sessions, contexts and credential hooks for driving SASL exchanges directly, without a server.</summary>
internal static class SaslTestKit
{
    public const string ServerName = "mx.test";

    public static SmtpSession CreateSession(bool secure, SslProtocols protocol = SslProtocols.Tls13)
    {
        var session = new SmtpSession("t1", new IPEndPoint(IPAddress.Loopback, 40000), new IPEndPoint(IPAddress.Loopback, 587), DateTimeOffset.UtcNow);
        if (secure)
        {
            var suite = protocol == SslProtocols.Tls13 ? TlsCipherSuite.TLS_AES_128_GCM_SHA256 : TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
            session.Tls = new SmtpTlsInfo(protocol, suite, ServerName, null, SslPolicyErrors.None, false);
        }

        return session;
    }

    /// <summary>
    /// A context; under TLS (1.3 unless <paramref name="protocol"/> says otherwise), <paramref name="binding"/> is what
    /// GetChannelBinding("tls-server-end-point") returns and <paramref name="unique"/> what GetChannelBinding("tls-unique") returns.
    /// </summary>
    public static SaslContext CreateContext(SmtpAuthenticationOptions options, bool secure = false, byte[]? binding = null,
        SslProtocols protocol = SslProtocols.Tls13, byte[]? unique = null)
    {
        Func<string, byte[]?>? channelBinding = secure
            ? type => type switch
            {
                "tls-server-end-point" => binding,
                "tls-unique" => unique,
                _ => null,
            }
            : null;
        return new SaslContext(CreateSession(secure, protocol), ServerName, options, channelBinding);
    }

    public static ValueTask<SaslStepResult> StepAsync(this ISaslExchange exchange, string response)
        => exchange.StepAsync(Encoding.UTF8.GetBytes(response), CancellationToken.None);

    public static string Text(this SaslStepResult result) => Encoding.UTF8.GetString(result.Challenge!);
}

/// <summary>SCRAM credentials by user name; records the names asked for.</summary>
internal sealed class TestScramProvider : IScramCredentialProvider
{
    private readonly Dictionary<string, ScramCredential> _users = new(StringComparer.Ordinal);

    public List<string> Requested { get; } = [];

    public TestScramProvider Add(string user, ScramCredential credential)
    {
        _users[user] = credential;
        return this;
    }

    public ValueTask<ScramCredential?> FindAsync(SmtpSession session, string userName, CancellationToken cancellationToken)
    {
        Requested.Add(userName);
        return ValueTask.FromResult(_users.GetValueOrDefault(userName));
    }
}

internal sealed class TestCramMd5Provider(Dictionary<string, string> secrets) : ICramMd5SecretProvider
{
    public ValueTask<string?> FindSecretAsync(SmtpSession session, string userName, CancellationToken cancellationToken)
        => ValueTask.FromResult(secrets.GetValueOrDefault(userName));
}

/// <summary>Accepts one token; records what it was asked.</summary>
internal sealed class TestTokenValidator(string goodToken, string identity) : IOAuthTokenValidator
{
    public List<(string? UserName, string Token)> Calls { get; } = [];

    public ValueTask<string?> ValidateAsync(SmtpSession session, string? userName, string token, CancellationToken cancellationToken)
    {
        Calls.Add((userName, token));
        return ValueTask.FromResult(token == goodToken ? identity : null);
    }
}
