namespace StartTls.Smtp.Authentication;

/// <summary>
/// SMTP AUTH (RFC 4954): the policy, and the credential hooks that enable each mechanism. AUTH is offered only when at
/// least one hook is set, and before TLS only if <see cref="AllowInsecureAuthentication"/> is true.
/// </summary>
public sealed class SmtpAuthenticationOptions
{
    /// <summary>Creates options with no hook set and the default mechanisms.</summary>
    public SmtpAuthenticationOptions() => Mechanisms = SaslMechanisms.CreateDefault();

    private SmtpAuthenticationOptions(IList<SaslMechanism> mechanisms) => Mechanisms = mechanisms;

    /// <summary>Checks passwords; enables PLAIN and LOGIN. Not bound from configuration.</summary>
    public IPasswordAuthenticator? PasswordAuthenticator { get; set; }

    /// <summary>
    /// Supplies stored SCRAM keys; enables SCRAM-SHA-256 and, under TLS 1.2 (and TLS 1.3 with
    /// <see cref="AdvertiseScramPlusOnTls13"/>), SCRAM-SHA-256-PLUS. Not bound from configuration.
    /// </summary>
    public IScramCredentialProvider? ScramCredentialProvider { get; set; }

    /// <summary>Supplies CRAM-MD5 secrets; enables CRAM-MD5 when <see cref="EnableCramMd5"/> is also true. Not bound from configuration.</summary>
    public ICramMd5SecretProvider? CramMd5SecretProvider { get; set; }

    /// <summary>Validates OAuth bearer tokens; enables XOAUTH2 and OAUTHBEARER. Not bound from configuration.</summary>
    public IOAuthTokenValidator? OAuthTokenValidator { get; set; }

    /// <summary>Rate-limits authentication across connections; optional. Not bound from configuration.</summary>
    public IAuthenticationThrottle? Throttle { get; set; }

    /// <summary>
    /// The mechanisms, in the order advertised. Default: SCRAM-SHA-256-PLUS, SCRAM-SHA-256, PLAIN, LOGIN, OAUTHBEARER,
    /// XOAUTH2, CRAM-MD5; each is offered only when its hook is set. Add custom <see cref="SaslMechanism"/>s here.
    /// </summary>
    public IList<SaslMechanism> Mechanisms { get; }

    /// <summary>Offer and accept AUTH before TLS (plaintext passwords on the wire). Default false: <c>530 5.7.0</c> before STARTTLS.</summary>
    public bool AllowInsecureAuthentication { get; set; }

    /// <summary>Require AUTH before MAIL (<c>530 5.7.0 Authentication required</c>), for submission endpoints. Default false.</summary>
    public bool RequireAuthentication { get; set; }

    /// <summary>Offer CRAM-MD5 (RFC 2195; the server must keep secrets in the clear). Default false.</summary>
    public bool EnableCramMd5 { get; set; }

    /// <summary>
    /// Offer SCRAM-SHA-256-PLUS on TLS 1.3 sessions too. Default false. The server verifies the <c>tls-unique</c> and
    /// <c>tls-server-end-point</c> channel bindings (RFC 5929), but not <c>tls-exporter</c> (RFC 9266), the binding TLS 1.3
    /// clients such as GNU SASL send: .NET has no public API for the TLS exporter, and tls-unique does not exist in TLS
    /// 1.3. A client that sees -PLUS picks it, so it is offered by default only where its binding can be checked: on
    /// TLS 1.2, with tls-unique. Turn this on only when the clients bind with <c>tls-server-end-point</c> (MailKit does);
    /// a client that sends tls-exporter gets <c>e=unsupported-channel-binding-type</c> and then <c>535 5.7.8</c>.
    /// </summary>
    public bool AdvertiseScramPlusOnTls13 { get; set; }

    /// <summary>Failed exchanges a connection may have before <c>421 4.7.0</c> and close. Default 3 (RFC 4954 §9: not fewer).</summary>
    public int MaxFailures { get; set; } = 3;

    /// <summary>The longest line of an AUTH exchange, in octets including CRLF (RFC 4954 §4: 12288 is enough). Longer: <c>500 5.5.6</c>.</summary>
    public int MaxLineLength { get; set; } = 12288;

    /// <summary>True when any credential hook is set.</summary>
    public bool IsConfigured => PasswordAuthenticator is not null || ScramCredentialProvider is not null
        || (CramMd5SecretProvider is not null && EnableCramMd5) || OAuthTokenValidator is not null;

    /// <summary>
    /// A copy that a running server keeps: the same hooks and values, and a read-only copy of the mechanism list, so
    /// that changing these options after the server was built changes nothing.
    /// </summary>
    internal SmtpAuthenticationOptions Snapshot() => new(new System.Collections.ObjectModel.ReadOnlyCollection<SaslMechanism>([.. Mechanisms]))
    {
        PasswordAuthenticator = PasswordAuthenticator,
        ScramCredentialProvider = ScramCredentialProvider,
        CramMd5SecretProvider = CramMd5SecretProvider,
        OAuthTokenValidator = OAuthTokenValidator,
        Throttle = Throttle,
        AllowInsecureAuthentication = AllowInsecureAuthentication,
        RequireAuthentication = RequireAuthentication,
        EnableCramMd5 = EnableCramMd5,
        AdvertiseScramPlusOnTls13 = AdvertiseScramPlusOnTls13,
        MaxFailures = MaxFailures,
        MaxLineLength = MaxLineLength,
    };
}
