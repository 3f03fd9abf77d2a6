using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Server;

/// <summary>Where the sample server puts the messages it accepts.</summary>
internal enum StoreKind
{
    /// <summary>A Maildir on disk (the default).</summary>
    Maildir,

    /// <summary>Nowhere: every message is read, acknowledged and discarded (load tests).</summary>
    Null,
}

/// <summary>The outcome of <see cref="CommandLineOptions.Parse"/>: options, a request for help, or an error.</summary>
/// <param name="Options">The parsed options, when the command line was valid and <paramref name="ShowHelp"/> is false.</param>
/// <param name="Error">What is wrong with the command line, when it is not valid.</param>
/// <param name="ShowHelp">True when <c>--help</c> was given.</param>
internal sealed record CommandLineParseResult(CommandLineOptions? Options, string? Error, bool ShowHelp);

/// <summary>
/// The sample server's command line. Values given here win over configuration (appsettings.json, environment).
/// A property left null was not given.
/// </summary>
internal sealed record CommandLineOptions
{
    /// <summary>The usage text printed by <c>--help</c>.</summary>
    public const string Usage = """
        Usage: dotnet run --project samples/StartTls.Smtp.Server [-- OPTIONS]

        A runnable SMTP server built on StartTls.Smtp. With no options it listens on 127.0.0.1:2525,
        accepts mail for any recipient and stores each message in the Maildir ./mail.

        Options:
          --listen HOST:PORT        Listen on HOST:PORT; repeat to listen on several. Replaces the default
                                    127.0.0.1:2525. HOST: an IPv4 address, [IPv6], localhost or * (every address).
          --maildir PATH            Store messages in the Maildir PATH, created if missing. Default: ./mail
          --store maildir|null      maildir (default) stores messages; null accepts and discards them (load tests).
          --max-message-size BYTES  The largest message accepted, advertised as SIZE. Default: 26214400 (25 MiB).
          --hostname NAME           The server name in the greeting, EHLO reply and Received header.
                                    Default: the machine name.
          --implicit-tls HOST:PORT  Also listen for implicit TLS (RFC 8314, port 465 style) on HOST:PORT; repeatable.
          --lmtp HOST:PORT          Also listen for LMTP (RFC 2033: LHLO, a reply per recipient) on HOST:PORT,
                                    for an MTA on this host or a trusted network; never port 25. Repeatable.
          --cert PEMFILE            The TLS certificate chain (PEM, leaf first; or a .pfx). Reloaded when it changes.
          --key PEMFILE             The certificate's private key (PEM), when not in the --cert file.
          --sni NAME=CERTPEM,KEYPEM Serve this certificate to clients asking for NAME (or *.domain); repeatable.
          --submission HOST:PORT    Also listen for mail submission (RFC 6409, port 587 style) on HOST:PORT:
                                    STARTTLS required first, then AUTH before MAIL. Needs --user; repeatable.
          --submissions HOST:PORT   Also listen for submission over implicit TLS (RFC 8314, port 465 style) on
                                    HOST:PORT, AUTH required before MAIL. Needs --user; repeatable.
          --require-tls             Before STARTTLS accept only EHLO, HELO, STARTTLS, NOOP, RSET and QUIT (submission).
          --no-tls                  Offer no TLS at all (no STARTTLS, no development certificate).
                                    Without --cert, a self-signed development certificate for localhost is
                                    created in ./.dev-certs (kept across runs), so STARTTLS works out of the box.
          --user NAME:PASSWORD      Accept AUTH (PLAIN, LOGIN, SCRAM-SHA-256[-PLUS]) for this user; repeatable.
          --require-auth            Require AUTH before MAIL (530 5.7.0 Authentication required).
          --allow-insecure-auth     Offer AUTH before TLS too (passwords in the clear; for tests only).
          --proxy-protocol CIDR     Trust PROXY protocol headers (v1 and v2, HAProxy) from this address or CIDR
                                    block on every endpoint; repeatable. Connections from it must send a header.
          --xclient CIDR            Accept Postfix's XCLIENT from this address or CIDR block; repeatable.
          --log-level LEVEL         Trace, Debug, Information (default), Warning, Error, Critical or None.
          --no-trace-headers        Do not prepend Return-Path and Received headers to stored messages.
          --help                    Show this help and exit.

        Every server setting can also come from appsettings.json in the current directory (section "Smtp",
        e.g. "Smtp": { "MaxRecipients": 50 }) and from environment variables (Smtp__MaxRecipients=50);
        the options above win. Stop the server with Ctrl+C or SIGTERM: messages being received may finish.

        """;

    private static readonly string[] LogLevelNames = Enum.GetNames<LogLevel>(); // Trace ... Critical, None

    /// <summary>The <c>--listen</c> addresses, in order; empty when none was given.</summary>
    public IReadOnlyList<string> Listen { get; init; } = [];

    /// <summary>The <c>--maildir</c> path, or null.</summary>
    public string? Maildir { get; init; }

    /// <summary>The <c>--store</c> choice; <see cref="StoreKind.Maildir"/> by default.</summary>
    public StoreKind Store { get; init; } = StoreKind.Maildir;

    /// <summary>The <c>--max-message-size</c> in octets, or null.</summary>
    public long? MaxMessageSize { get; init; }

    /// <summary>The <c>--hostname</c>, or null.</summary>
    public string? HostName { get; init; }

    /// <summary>The <c>--log-level</c>, or null (Information, unless configuration says otherwise).</summary>
    public LogLevel? LogLevel { get; init; }

    /// <summary>True when <c>--no-trace-headers</c> was given.</summary>
    public bool NoTraceHeaders { get; init; }

    /// <summary>The <c>--implicit-tls</c> addresses, in order.</summary>
    public IReadOnlyList<string> ImplicitTls { get; init; } = [];

    /// <summary>The <c>--lmtp</c> addresses, in order.</summary>
    public IReadOnlyList<string> Lmtp { get; init; } = [];

    /// <summary>The <c>--submission</c> addresses (RequireTls and RequireAuthentication), in order.</summary>
    public IReadOnlyList<string> Submission { get; init; } = [];

    /// <summary>The <c>--submissions</c> addresses (implicit TLS and RequireAuthentication), in order.</summary>
    public IReadOnlyList<string> Submissions { get; init; } = [];

    /// <summary>The <c>--cert</c> file, or null.</summary>
    public string? Certificate { get; init; }

    /// <summary>The <c>--key</c> file, or null.</summary>
    public string? Key { get; init; }

    /// <summary>The <c>--sni</c> entries, in order.</summary>
    public IReadOnlyList<SniCertificate> Sni { get; init; } = [];

    /// <summary>True when <c>--require-tls</c> was given.</summary>
    public bool RequireTls { get; init; }

    /// <summary>True when <c>--no-tls</c> was given.</summary>
    public bool NoTls { get; init; }

    /// <summary>The <c>--user</c> entries, in order.</summary>
    public IReadOnlyList<UserCredential> Users { get; init; } = [];

    /// <summary>True when <c>--require-auth</c> was given.</summary>
    public bool RequireAuth { get; init; }

    /// <summary>True when <c>--allow-insecure-auth</c> was given.</summary>
    public bool AllowInsecureAuth { get; init; }

    /// <summary>The <c>--proxy-protocol</c> trusted sources, in order.</summary>
    public IReadOnlyList<string> ProxyProtocol { get; init; } = [];

    /// <summary>The <c>--xclient</c> trusted sources, in order.</summary>
    public IReadOnlyList<string> Xclient { get; init; } = [];

    /// <summary>True when the server needs a development certificate: TLS is wanted and no certificate was given.</summary>
    public bool NeedsDevelopmentCertificate => !NoTls && Certificate is null;

    /// <summary>
    /// Parses the command line strictly: unknown flags, missing or malformed values, a flag given twice (other than
    /// <c>--listen</c>) and stray arguments are errors. Values follow their flag as the next argument or after <c>=</c>
    /// (<c>--maildir=/tmp/mail</c>). <c>--help</c> (or <c>-h</c>) anywhere asks for help, whatever else is there.
    /// </summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <returns>The options, a request for help, or the first error found.</returns>
    public static CommandLineParseResult Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Any(static a => a is "--help" or "-h"))
        {
            return new CommandLineParseResult(null, null, ShowHelp: true);
        }

        var options = new CommandLineOptions();
        var listen = new List<string>();
        var implicitTls = new List<string>();
        var lmtp = new List<string>();
        var submission = new List<string>();
        var submissions = new List<string>();
        var sni = new List<SniCertificate>();
        var users = new List<UserCredential>();
        var proxyProtocol = new List<string>();
        var xclient = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
            {
                return Fail($"unexpected argument '{arg}'");
            }

            string name;
            string? inlineValue = null;
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            if (equals > 0)
            {
                name = arg[..equals];
                inlineValue = arg[(equals + 1)..];
            }
            else
            {
                name = arg;
            }

            if (name is not ("--listen" or "--implicit-tls" or "--lmtp" or "--submission" or "--submissions" or "--sni" or "--user" or "--proxy-protocol" or "--xclient") && !seen.Add(name))
            {
                return Fail($"{name} is given more than once");
            }

            switch (name)
            {
                case "--no-trace-headers":
                case "--require-tls":
                case "--no-tls":
                case "--require-auth":
                case "--allow-insecure-auth":
                    if (inlineValue is not null)
                    {
                        return Fail($"{name} takes no value");
                    }

                    options = name switch
                    {
                        "--no-trace-headers" => options with { NoTraceHeaders = true },
                        "--require-tls" => options with { RequireTls = true },
                        "--no-tls" => options with { NoTls = true },
                        "--require-auth" => options with { RequireAuth = true },
                        _ => options with { AllowInsecureAuth = true },
                    };
                    continue;
                case "--implicit-tls":
                case "--lmtp":
                case "--submission":
                case "--submissions":
                case "--cert":
                case "--key":
                case "--sni":
                case "--user":
                case "--listen":
                case "--maildir":
                case "--store":
                case "--max-message-size":
                case "--hostname":
                case "--log-level":
                case "--proxy-protocol":
                case "--xclient":
                    break;
                default:
                    return Fail($"unknown option '{name}'");
            }

            string value;
            if (inlineValue is not null)
            {
                value = inlineValue;
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                return Fail($"{name} needs a value");
            }

            var error = name switch
            {
                "--listen" => ParseListen(value, listen),
                "--implicit-tls" => ParseListen(value, implicitTls, "--implicit-tls"),
                "--lmtp" => ParseListen(value, lmtp, "--lmtp", SmtpEndpointProtocol.Lmtp),
                "--submission" => ParseListen(value, submission, "--submission"),
                "--submissions" => ParseListen(value, submissions, "--submissions"),
                "--cert" => ParseFile(value, "--cert", path => options = options with { Certificate = path }),
                "--key" => ParseFile(value, "--key", path => options = options with { Key = path }),
                "--sni" => ParseSni(value, sni),
                "--user" => ParseUser(value, users),
                "--maildir" => ParseMaildir(value, ref options),
                "--store" => ParseStore(value, ref options),
                "--max-message-size" => ParseMaxMessageSize(value, ref options),
                "--hostname" => ParseHostName(value, ref options),
                "--proxy-protocol" => ParseTrustedSource(value, proxyProtocol, "--proxy-protocol"),
                "--xclient" => ParseTrustedSource(value, xclient, "--xclient"),
                _ => ParseLogLevel(value, ref options),
            };
            if (error is not null)
            {
                return Fail(error);
            }
        }

        if (options.Store == StoreKind.Null && (options.Maildir is not null || options.NoTraceHeaders))
        {
            return Fail("--maildir and --no-trace-headers apply only to --store maildir");
        }

        if (options.NoTls && (options.Certificate is not null || options.Key is not null || sni.Count > 0 || implicitTls.Count > 0 || options.RequireTls
            || submission.Count > 0 || submissions.Count > 0))
        {
            return Fail("--no-tls cannot be combined with --cert, --key, --sni, --implicit-tls, --submission, --submissions or --require-tls");
        }

        if (options.Key is not null && options.Certificate is null)
        {
            return Fail("--key needs --cert");
        }

        if ((options.RequireAuth || options.AllowInsecureAuth) && users.Count == 0)
        {
            return Fail("--require-auth and --allow-insecure-auth need at least one --user");
        }

        if ((submission.Count > 0 || submissions.Count > 0) && users.Count == 0)
        {
            return Fail("--submission and --submissions require authentication: give at least one --user");
        }

        return new CommandLineParseResult(options with { Listen = listen, ImplicitTls = implicitTls, Lmtp = lmtp, Submission = submission, Submissions = submissions, Sni = sni, Users = users, ProxyProtocol = proxyProtocol, Xclient = xclient }, null, ShowHelp: false);
    }

    /// <summary>Applies the server settings given on the command line over those from configuration.</summary>
    /// <param name="options">The server options, already bound from configuration.</param>
    public void ApplyTo(SmtpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Listen.Count > 0)
        {
            options.Endpoints.Clear();
            foreach (var address in Listen)
            {
                options.Endpoints.Add(new SmtpEndpointOptions { Address = address });
            }
        }

        if (MaxMessageSize is { } size)
        {
            options.MaxMessageSize = size;
        }

        if (HostName is not null)
        {
            options.ServerName = HostName;
        }

        if (RequireTls)
        {
            if (options.Endpoints.Count == 0)
            {
                options.Endpoints.Add(new SmtpEndpointOptions());
            }

            foreach (var endpoint in options.Endpoints)
            {
                endpoint.RequireTls = !endpoint.ImplicitTls;
            }
        }

        if (ImplicitTls.Count > 0)
        {
            if (options.Endpoints.Count == 0)
            {
                // Keep the default plaintext endpoint beside the implicit-TLS one(s).
                options.Endpoints.Add(new SmtpEndpointOptions { RequireTls = RequireTls });
            }

            foreach (var address in ImplicitTls)
            {
                options.Endpoints.Add(new SmtpEndpointOptions { Address = address, ImplicitTls = true });
            }
        }

        if (Lmtp.Count > 0)
        {
            if (options.Endpoints.Count == 0)
            {
                // Keep the default SMTP endpoint beside the LMTP one(s).
                options.Endpoints.Add(new SmtpEndpointOptions { RequireTls = RequireTls });
            }

            foreach (var address in Lmtp)
            {
                options.Endpoints.Add(new SmtpEndpointOptions { Address = address, Protocol = SmtpEndpointProtocol.Lmtp });
            }
        }

        if ((Submission.Count > 0 || Submissions.Count > 0) && options.Endpoints.Count == 0)
        {
            // As with --implicit-tls: the default endpoint stays, beside the submission ones.
            options.Endpoints.Add(new SmtpEndpointOptions { RequireTls = RequireTls });
        }

        foreach (var address in Submission)
        {
            options.Endpoints.Add(new SmtpEndpointOptions { Address = address, Name = "submission", RequireTls = true, RequireAuthentication = true });
        }

        foreach (var address in Submissions)
        {
            options.Endpoints.Add(new SmtpEndpointOptions { Address = address, Name = "submissions", ImplicitTls = true, RequireAuthentication = true });
        }

        if (Certificate is not null)
        {
            options.Tls.CertificatePath = Certificate;
            options.Tls.KeyPath = Key;
        }

        foreach (var entry in Sni)
        {
            options.Tls.SniCertificates.Add(new Tls.SniCertificateOptions { ServerName = entry.ServerName, CertificatePath = entry.CertificatePath, KeyPath = entry.KeyPath });
        }

        if (RequireAuth)
        {
            options.Authentication.RequireAuthentication = true;
        }

        if (AllowInsecureAuth)
        {
            options.Authentication.AllowInsecureAuthentication = true;
        }

        foreach (var source in ProxyProtocol)
        {
            options.ProxyProtocol.TrustedSources.Add(source);
        }

        foreach (var source in Xclient)
        {
            options.Xclient.TrustedSources.Add(source);
        }
    }

    /// <summary>Applies the store settings given on the command line over those from configuration.</summary>
    /// <param name="options">The Maildir options, already bound from configuration.</param>
    public void ApplyTo(MaildirStoreOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Maildir is not null)
        {
            options.Path = Maildir;
        }

        if (NoTraceHeaders)
        {
            options.AddTraceHeaders = false;
        }

        if (HostName is not null)
        {
            options.ServerName = HostName;
        }
    }

    private static CommandLineParseResult Fail(string error) => new(null, error, ShowHelp: false);

    /// <summary>The library's own validation (the server's constructor runs it), so a flag accepts what the server does.</summary>
    private static IReadOnlyList<string> Validate(SmtpServerOptions probe)
    {
        try
        {
            // The probe is never started: building it only validates the options and binds nothing.
            _ = new SmtpServer(probe, StartTls.Smtp.Storage.NullMessageStore.Instance);
            return [];
        }
        catch (OptionsValidationException ex)
        {
            return [.. ex.Failures];
        }
    }

    private static string? ParseListen(string value, List<string> listen, string flag = "--listen", SmtpEndpointProtocol protocol = SmtpEndpointProtocol.Smtp)
    {
        // The library's own validator decides what an address is, so the flag accepts exactly what the server binds
        // (for --lmtp: never port 25).
        var probe = new SmtpServerOptions();
        probe.Endpoints.Add(new SmtpEndpointOptions { Address = value, Protocol = protocol });
        var failures = Validate(probe);
        if (failures.Count > 0)
        {
            var failure = failures.FirstOrDefault(static f => f.StartsWith("Endpoints: ", StringComparison.Ordinal));
            return flag + " " + (failure is null ? $"'{value}' is not HOST:PORT" : failure["Endpoints: ".Length..].TrimEnd('.'));
        }

        listen.Add(value);
        return null;
    }

    private static string? ParseTrustedSource(string value, List<string> sources, string flag)
    {
        // The library's own validator decides what a CIDR block is (the same rule for both lists).
        var probe = new SmtpServerOptions();
        probe.ProxyProtocol.TrustedSources.Add(value);
        if (Validate(probe).Count > 0)
        {
            return $"{flag} '{value}' is not an IP address or CIDR block (for example 10.0.0.0/8)";
        }

        sources.Add(value);
        return null;
    }

    private static string? ParseFile(string value, string flag, Action<string> set)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return $"{flag} needs a file";
        }

        if (!File.Exists(value))
        {
            return $"{flag}: no file '{value}'";
        }

        set(value);
        return null;
    }

    private static string? ParseSni(string value, List<SniCertificate> sni)
    {
        // NAME=CERTPEM,KEYPEM (the key may be omitted when it is in the certificate file)
        var equals = value.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == value.Length - 1)
        {
            return $"--sni must be NAME=CERTPEM,KEYPEM, not '{value}'";
        }

        var name = value[..equals];
        var files = value[(equals + 1)..].Split(',');
        if (files.Length > 2 || files.Any(string.IsNullOrWhiteSpace))
        {
            return $"--sni must be NAME=CERTPEM,KEYPEM, not '{value}'";
        }

        foreach (var file in files)
        {
            if (!File.Exists(file))
            {
                return $"--sni {name}: no file '{file}'";
            }
        }

        sni.Add(new SniCertificate(name, files[0], files.Length > 1 ? files[1] : null));
        return null;
    }

    private static string? ParseUser(string value, List<UserCredential> users)
    {
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == value.Length - 1)
        {
            return "--user must be NAME:PASSWORD";
        }

        users.Add(new UserCredential(value[..colon], value[(colon + 1)..]));
        return null;
    }

    private static string? ParseMaildir(string value, ref CommandLineOptions options)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return "--maildir needs a path";
        }

        options = options with { Maildir = value };
        return null;
    }

    private static string? ParseStore(string value, ref CommandLineOptions options)
    {
        StoreKind? store = value.ToUpperInvariant() switch
        {
            "MAILDIR" => StoreKind.Maildir,
            "NULL" => StoreKind.Null,
            _ => null,
        };
        if (store is null)
        {
            return $"--store must be 'maildir' or 'null', not '{value}'";
        }

        options = options with { Store = store.Value };
        return null;
    }

    private static string? ParseMaxMessageSize(string value, ref CommandLineOptions options)
    {
        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) || size < 1)
        {
            return $"--max-message-size must be a whole number of bytes, at least 1, not '{value}'";
        }

        options = options with { MaxMessageSize = size };
        return null;
    }

    private static string? ParseHostName(string value, ref CommandLineOptions options)
    {
        var probe = new SmtpServerOptions { ServerName = value };
        if (Validate(probe).Count > 0)
        {
            return $"--hostname must be 1 to 255 printable ASCII characters without spaces, not '{value}'";
        }

        options = options with { HostName = value };
        return null;
    }

    private static string? ParseLogLevel(string value, ref CommandLineOptions options)
    {
        var name = Array.Find(LogLevelNames, n => string.Equals(n, value, StringComparison.OrdinalIgnoreCase));
        if (name is null)
        {
            return $"--log-level must be one of {string.Join(", ", LogLevelNames)}, not '{value}'";
        }

        options = options with { LogLevel = Enum.Parse<LogLevel>(name) };
        return null;
    }
}

/// <summary>One <c>--sni</c> entry.</summary>
/// <param name="ServerName">The host name or <c>*.</c> wildcard.</param>
/// <param name="CertificatePath">The PEM chain.</param>
/// <param name="KeyPath">The PEM key, or null when it is in the chain file.</param>
internal sealed record SniCertificate(string ServerName, string CertificatePath, string? KeyPath);

/// <summary>One <c>--user</c> entry. The password is never logged or printed.</summary>
/// <param name="UserName">The user name.</param>
/// <param name="Password">The password.</param>
internal sealed record UserCredential(string UserName, string Password)
{
    /// <inheritdoc />
    public override string ToString() => UserName + ":***";
}
