using Microsoft.Extensions.Options;
using StartTls.Smtp.Transport;

namespace StartTls.Smtp;

/// <summary>Validates <see cref="SmtpServerOptions"/> when the server starts, naming every problem at once.</summary>
internal sealed class SmtpServerOptionsValidator : IValidateOptions<SmtpServerOptions>
{
    /// <summary>The validator, shared: it has no state.</summary>
    public static readonly SmtpServerOptionsValidator Instance = new();

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SmtpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.MaxMessageSize < 1)
        {
            failures.Add("MaxMessageSize must be positive.");
        }

        if (options.MaxCommandLineLength is < 512 or > 1024 * 1024)
        {
            failures.Add("MaxCommandLineLength must be between 512 (RFC 5321 §4.5.3.1.4) and 1048576.");
        }

        if (options.MaxTextLineLength is < 1000 or > 1024 * 1024)
        {
            failures.Add("MaxTextLineLength must be between 1000 (RFC 5321 §4.5.3.1.6) and 1048576.");
        }

        if (options.MaxRecipients < 1)
        {
            failures.Add("MaxRecipients must be at least 1.");
        }

        if (options.MaxBadCommands < 1)
        {
            failures.Add("MaxBadCommands must be at least 1.");
        }

        if (options.MaxConnections < 1)
        {
            failures.Add("MaxConnections must be at least 1.");
        }

        if (options.MaxConnectionsPerIp < 0)
        {
            failures.Add("MaxConnectionsPerIp must be 0 (no limit) or more.");
        }

        CheckTimeout(failures, nameof(options.GreetingTimeout), options.GreetingTimeout);
        CheckTimeout(failures, nameof(options.CommandTimeout), options.CommandTimeout);
        CheckTimeout(failures, nameof(options.DataBlockTimeout), options.DataBlockTimeout);
        CheckTimeout(failures, nameof(options.DataTimeout), options.DataTimeout);
        if (options.GreetingDelay < TimeSpan.Zero || options.GreetingDelay > TimeSpan.FromMinutes(5))
        {
            failures.Add("GreetingDelay must be between zero and 5 minutes.");
        }

        if (options.StressThreshold is < 0 or > 1 || double.IsNaN(options.StressThreshold))
        {
            failures.Add("StressThreshold must be between 0 (off) and 1.");
        }

        CheckTimeout(failures, nameof(options.StressTimeout), options.StressTimeout);
        if (options.ShutdownTimeout < TimeSpan.Zero)
        {
            failures.Add("ShutdownTimeout must not be negative.");
        }

        if (!Enum.IsDefined(options.BareLineEndings))
        {
            failures.Add("BareLineEndings is not a known value.");
        }

        if (options.ServerName is { } serverName && (serverName.Length == 0 || serverName.Length > 255 || !IsPrintableAscii(serverName)))
        {
            failures.Add("ServerName must be 1 to 255 printable ASCII characters without spaces.");
        }

        if (!options.ListenOnOwnSockets && options.Endpoints.Count > 0)
        {
            failures.Add("Endpoints: the server opens no socket of its own (ListenOnOwnSockets is false), so no endpoint may be configured.");
        }

        foreach (var endpoint in options.Endpoints)
        {
            if (!EndpointParser.TryParse(endpoint?.Address, out _, out var error))
            {
                failures.Add("Endpoints: " + error + ".");
            }

            if (endpoint is { ImplicitTls: true } or { RequireTls: true } && !options.Tls.IsConfigured)
            {
                failures.Add($"Endpoints: '{endpoint.Address}' uses TLS, but no certificate is configured in Tls.");
            }

            if (endpoint is { ImplicitTls: true, RequireTls: true })
            {
                failures.Add($"Endpoints: '{endpoint.Address}' is implicit TLS; RequireTls applies only to STARTTLS endpoints.");
            }

            if (endpoint is not null)
            {
                ValidateProtocol(failures, endpoint);
            }
        }

        if (options.Tls.HandshakeTimeout <= TimeSpan.Zero || options.Tls.HandshakeTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add("Tls.HandshakeTimeout must be more than zero and at most 5 minutes.");
        }

        if ((options.Tls.EnabledProtocols & ~(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13)) != 0)
        {
            failures.Add("Tls.EnabledProtocols may contain only Tls12 and Tls13 (RFC 8996 deprecates older versions).");
        }

        if (options.Authentication.MaxFailures < 1)
        {
            failures.Add("Authentication.MaxFailures must be at least 1.");
        }

        if (options.Authentication.MaxLineLength is < 512 or > 1024 * 1024)
        {
            failures.Add("Authentication.MaxLineLength must be between 512 and 1048576 (RFC 4954 suggests 12288).");
        }

        foreach (var mechanism in options.Authentication.Mechanisms)
        {
            if (mechanism is null || string.IsNullOrWhiteSpace(mechanism.Name))
            {
                failures.Add("Authentication.Mechanisms: every mechanism needs a name.");
            }
        }

        foreach (var sni in options.Tls.SniCertificates)
        {
            if (string.IsNullOrWhiteSpace(sni.ServerName) || string.IsNullOrWhiteSpace(sni.CertificatePath))
            {
                failures.Add("Tls.SniCertificates: every entry needs ServerName and CertificatePath.");
            }
        }

        ValidateEndpointPolicies(failures, options);

        if (!TrustedNetworks.TryParse(options.ProxyProtocol.TrustedSources, out _, out var badProxy))
        {
            failures.Add($"ProxyProtocol.TrustedSources: '{badProxy}' is not an IP address or CIDR block (for example 10.0.0.0/8).");
        }

        if (options.ProxyProtocol.HeaderTimeout <= TimeSpan.Zero || options.ProxyProtocol.HeaderTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add("ProxyProtocol.HeaderTimeout must be more than zero and at most 5 minutes.");
        }

        if (!TrustedNetworks.TryParse(options.Xclient.TrustedSources, out _, out var badXclient))
        {
            failures.Add($"Xclient.TrustedSources: '{badXclient}' is not an IP address or CIDR block (for example 127.0.0.1).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The per-endpoint overrides: each must be something the server can honour.</summary>
    private static void ValidateEndpointPolicies(List<string> failures, SmtpServerOptions options)
    {
        foreach (var endpoint in options.Endpoints)
        {
            if (endpoint is not null)
            {
                ValidateEndpointPolicy(failures, endpoint, options.Authentication);
            }
        }
    }

    /// <summary>
    /// One endpoint's overrides against the server's AUTH settings; also used for endpoints a transport of its own
    /// serves (Kestrel's <c>UseSmtp</c>), through <see cref="SmtpServer.ValidateEndpoint"/>.
    /// </summary>
    internal static void ValidateEndpointPolicy(List<string> failures, SmtpEndpointOptions endpoint, Authentication.SmtpAuthenticationOptions authentication)
    {
        var name = string.IsNullOrEmpty(endpoint.Name) ? endpoint.Address : endpoint.Name;
        if (endpoint.RequireAuthentication == true && endpoint.OfferAuthentication == false)
        {
            failures.Add($"Endpoint '{name}': RequireAuthentication needs OfferAuthentication (no client could send mail).");
        }
        else if (endpoint.RequireAuthentication is null && authentication.RequireAuthentication && endpoint.OfferAuthentication == false)
        {
            failures.Add($"Endpoint '{name}': OfferAuthentication is false but Authentication.RequireAuthentication applies here; set RequireAuthentication to false on this endpoint (an MX).");
        }

        if (endpoint.RequireAuthentication == true && !authentication.IsConfigured)
        {
            failures.Add($"Endpoint '{name}': RequireAuthentication needs an authentication hook in Authentication (for example a PasswordAuthenticator).");
        }

        foreach (var mechanism in endpoint.AuthenticationMechanisms)
        {
            if (!IsConfiguredMechanism(authentication.Mechanisms, mechanism))
            {
                failures.Add($"Endpoint '{name}': AuthenticationMechanisms: '{mechanism}' is not one of Authentication.Mechanisms.");
            }
        }

        if (endpoint.MaxMessageSize is < 1)
        {
            failures.Add($"Endpoint '{name}': MaxMessageSize must be positive.");
        }

        if (endpoint.ImplicitTls && endpoint.OfferStartTls == true)
        {
            failures.Add($"Endpoint '{name}': OfferStartTls does not apply to an implicit-TLS endpoint.");
        }

        if (endpoint.RequireTls && endpoint.OfferStartTls == false)
        {
            failures.Add($"Endpoint '{name}': RequireTls needs STARTTLS; OfferStartTls must not be false.");
        }

        if (!TrustedNetworks.TryParse(endpoint.ProxyProtocolTrustedSources, out _, out var badProxy))
        {
            failures.Add($"Endpoint '{name}': ProxyProtocolTrustedSources: '{badProxy}' is not an IP address or CIDR block (for example 10.0.0.0/8).");
        }
    }

    /// <summary>RFC 2033 §5 and the protocol's value: the checks on an endpoint's <see cref="SmtpEndpointOptions.Protocol"/>.</summary>
    internal static void ValidateProtocol(List<string> failures, SmtpEndpointOptions endpoint)
    {
        if (endpoint is { Protocol: SmtpEndpointProtocol.Lmtp } && EndpointParser.TryParse(endpoint.Address, out var lmtpAddresses, out _) && lmtpAddresses.Count > 0 && lmtpAddresses[0].Port == 25)
        {
            // RFC 2033 §5: "The LMTP protocol MUST NOT be used on the TCP port 25."
            failures.Add($"Endpoints: '{endpoint.Address}' is an LMTP endpoint; LMTP must never listen on port 25 (RFC 2033 §5).");
        }

        if (!Enum.IsDefined(endpoint.Protocol))
        {
            failures.Add($"Endpoints: '{endpoint.Address}' has an unknown Protocol; use Smtp or Lmtp.");
        }
    }

    private static bool IsConfiguredMechanism(IList<Authentication.SaslMechanism> mechanisms, string? name)
    {
        foreach (var mechanism in mechanisms)
        {
            if (string.Equals(mechanism.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    private static void CheckTimeout(List<string> failures, string name, TimeSpan value)
    {
        if (value <= TimeSpan.Zero || value > TimeSpan.FromHours(1))
        {
            failures.Add(name + " must be more than zero and at most one hour.");
        }
    }

    private static bool IsPrintableAscii(string value)
    {
        foreach (var c in value)
        {
            if (c is <= ' ' or > '~')
            {
                return false;
            }
        }

        return true;
    }
}
