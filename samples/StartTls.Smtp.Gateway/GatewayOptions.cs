using System.Globalization;
using System.Net;

namespace StartTls.Smtp.Gateway;

/// <summary>The gateway's settings, from its command line (see <see cref="Usage"/>).</summary>
internal sealed record GatewayOptions
{
    /// <summary>The usage text printed by <c>--help</c>.</summary>
    public const string Usage = """
        Usage: dotnet run --project samples/StartTls.Smtp.Gateway -- --listen HOST:PORT --upstream HOST:PORT [OPTIONS]

        A before-queue relay gateway: it accepts mail for the relay domains (and anything from authenticated users on
        the submission endpoint) and forwards each message to the upstream server while the client waits. Recipients
        are checked upstream at RCPT time and the client gets 250 only after the upstream said 250.

        Options:
          --listen HOST:PORT            The MX endpoint (relay domains only). Required.
          --upstream HOST:PORT          The next hop. Required.
          --upstream-tls MODE           required (default): STARTTLS with a validated certificate, else 451 and nothing
                                        is sent; opportunistic: STARTTLS when offered; none: plain text.
          --upstream-ca PEMFILE         Trust this CA (instead of the system's) for the upstream's certificate.
          --relay-domain DOMAIN         Accept mail for DOMAIN on the MX endpoint (.DOMAIN: its subdomains); repeatable.
          --submission HOST:PORT        Also listen for submission: authenticated users may relay anywhere.
          --user NAME:PASSWORD          A submission user (AUTH PLAIN, LOGIN, SCRAM-SHA-256); repeatable.
          --hostname NAME               The gateway's name in its greeting, EHLO and Received header.
          --spool DIR                   Where a message waits on disk while it is forwarded. Default: the temp folder.
          --cert PEMFILE, --key PEMFILE The gateway's own STARTTLS certificate. Default: a development certificate.
          --help                        Show this help and exit.

        Against the sample server (samples/StartTls.Smtp.Server) started in the same directory, trust its development
        certificate: --upstream 127.0.0.1:2525 --upstream-ca .dev-certs/localhost.crt

        """;

    /// <summary>The MX endpoint.</summary>
    public string Listen { get; init; } = string.Empty;

    /// <summary>The upstream host name or address.</summary>
    public string UpstreamHost { get; init; } = string.Empty;

    /// <summary>The upstream port.</summary>
    public int UpstreamPort { get; init; }

    /// <summary>How the upstream connection is protected.</summary>
    public UpstreamTlsMode UpstreamTls { get; init; } = UpstreamTlsMode.Required;

    /// <summary>The CA file that validates the upstream's certificate, or null for the system's trust store.</summary>
    public string? UpstreamCa { get; init; }

    /// <summary>The domains the MX endpoint relays for.</summary>
    public IReadOnlyList<string> RelayDomains { get; init; } = [];

    /// <summary>The submission endpoint, or null.</summary>
    public string? Submission { get; init; }

    /// <summary>The submission users.</summary>
    public IReadOnlyList<GatewayUser> Users { get; init; } = [];

    /// <summary>The gateway's host name, or null for the machine name.</summary>
    public string? HostName { get; init; }

    /// <summary>
    /// The folder where each message is spooled while it is forwarded (a file only its owner can read, deleted when the
    /// forward ends), or null for the system's temp folder.
    /// </summary>
    public string? SpoolDirectory { get; init; }

    /// <summary>The gateway's certificate (PEM), or null.</summary>
    public string? Certificate { get; init; }

    /// <summary>The certificate's key (PEM), or null.</summary>
    public string? Key { get; init; }

    /// <summary>The name in the greeting, EHLO and Received header: <see cref="HostName"/>, or the machine name.</summary>
    public string ServerName => HostName ?? Environment.MachineName;

    /// <summary>How long one upstream command may take before the upstream counts as unavailable.</summary>
    public TimeSpan UpstreamTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// True when <paramref name="domain"/> is a relay domain. As in Postfix's <c>relay_domains</c> (compatibility level 2
    /// and later), <c>example.com</c> matches that domain alone and <c>.example.com</c> every subdomain of it (not
    /// example.com itself); both case-insensitive, a trailing dot on <paramref name="domain"/> ignored.
    /// </summary>
    public bool IsRelayDomain(string domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        domain = domain.TrimEnd('.');
        foreach (var relay in RelayDomains)
        {
            var matches = relay.StartsWith('.')
                ? domain.Length > relay.Length && domain.EndsWith(relay, StringComparison.OrdinalIgnoreCase)
                : string.Equals(relay, domain, StringComparison.OrdinalIgnoreCase);
            if (matches)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the session came in on the submission endpoint (the endpoint named "submission").</summary>
    public static bool IsSubmission(SmtpSession session)
    {
        ArgumentNullException.ThrowIfNull(session);
        return session.Endpoint.Name == SubmissionEndpointName;
    }

    /// <summary>The name of the submission endpoint, whose policy (STARTTLS, then AUTH before MAIL) the server enforces.</summary>
    public const string SubmissionEndpointName = "submission";

    /// <summary>Parses the command line strictly; returns null and an error, or null and no error for <c>--help</c>.</summary>
    public static GatewayOptions? Parse(IReadOnlyList<string> args, out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        error = null;
        if (args.Any(static a => a is "--help" or "-h"))
        {
            return null;
        }

        var options = new GatewayOptions();
        var relayDomains = new List<string>();
        var users = new List<GatewayUser>();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Count)
            {
                error = $"{name} needs a value";
                return null;
            }

            var value = args[++i];
            switch (name)
            {
                case "--listen" when IsEndPoint(value):
                    options = options with { Listen = value };
                    break;
                case "--submission" when IsEndPoint(value):
                    options = options with { Submission = value };
                    break;
                case "--upstream" when SplitEndPoint(value) is var (host, port):
                    options = options with { UpstreamHost = host, UpstreamPort = port };
                    break;
                case "--upstream-tls" when Enum.TryParse<UpstreamTlsMode>(value, ignoreCase: true, out var mode) && !int.TryParse(value, out _):
                    options = options with { UpstreamTls = mode };
                    break;
                case "--upstream-ca":
                    options = options with { UpstreamCa = value };
                    break;
                case "--relay-domain" when value.Trim('.').Length > 0:
                    relayDomains.Add(value.TrimEnd('.'));
                    break;
                case "--user" when value.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon:
                    users.Add(new GatewayUser(value[..colon], value[(colon + 1)..]));
                    break;
                case "--hostname" when value.Length > 0:
                    options = options with { HostName = value };
                    break;
                case "--spool" when value.Length > 0:
                    options = options with { SpoolDirectory = value };
                    break;
                case "--cert":
                    options = options with { Certificate = value };
                    break;
                case "--key":
                    options = options with { Key = value };
                    break;
                default:
                    error = name.StartsWith("--", StringComparison.Ordinal) ? $"bad or unknown option {name} {value}" : $"unexpected argument '{name}'";
                    return null;
            }
        }

        error = (options.Listen.Length, options.UpstreamPort, users.Count > 0, options.Submission is not null) switch
        {
            (0, _, _, _) => "--listen is required",
            (_, 0, _, _) => "--upstream is required",
            (_, _, true, false) => "--user needs --submission",
            (_, _, false, true) => "--submission needs --user (the endpoint takes mail from authenticated users only)",
            _ => null,
        };
        return error is null ? options with { RelayDomains = relayDomains, Users = users } : null;
    }

    private static bool IsEndPoint(string value) => SplitEndPoint(value) is not null;

    private static (string Host, int Port)? SplitEndPoint(string value)
    {
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > IPEndPoint.MaxPort)
        {
            return null;
        }

        return (value[..colon].Trim('[', ']'), port);
    }
}
