using System.Globalization;
using System.Net;

namespace StartTls.Smtp.MailCatcher;

/// <summary>The mail catcher's settings, from its command line (see <see cref="Usage"/>).</summary>
internal sealed record CatcherOptions
{
    /// <summary>How many messages are kept when <c>--keep</c> is not given.</summary>
    public const int DefaultKeep = 1000;

    /// <summary>The usage text printed by <c>--help</c>.</summary>
    public const string Usage = """
        Usage: dotnet run --project samples/StartTls.Smtp.MailCatcher [-- OPTIONS]

        A mail catcher for development: point your application's SMTP settings at it and read what it sent
        in the browser. Only loopback addresses are accepted.

        Options:
          --http HOST:PORT      The web page and JSON API. Default: 127.0.0.1:8025
          --smtp HOST:PORT      The SMTP server (STARTTLS with a development certificate). Default: 127.0.0.1:2525
          --user NAME:PASSWORD  Require AUTH PLAIN or LOGIN with this user name and password.
          --db PATH             The SQLite file the messages are kept in. Default: ./mailcatcher.db
          --keep N              Keep the newest N messages, deleting older ones. Default: 1000
          --help                Show this help and exit.

        HOST is 127.0.0.1, [::1] (or any 127.x.y.z) or localhost. The development certificate is kept in
        .dev-certs beside the database file.

        """;

    /// <summary>The HTTP endpoint (loopback).</summary>
    public IPEndPoint Http { get; init; } = new(IPAddress.Loopback, 8025);

    /// <summary>The SMTP endpoint (loopback).</summary>
    public IPEndPoint Smtp { get; init; } = new(IPAddress.Loopback, 2525);

    /// <summary>The user name required by AUTH, or null when AUTH is not offered.</summary>
    public string? UserName { get; init; }

    /// <summary>The password that goes with <see cref="UserName"/>.</summary>
    public string? Password { get; init; }

    /// <summary>The SQLite database file.</summary>
    public string DatabasePath { get; init; } = "mailcatcher.db";

    /// <summary>How many messages are kept, newest first.</summary>
    public int Keep { get; init; } = DefaultKeep;

    /// <summary>Where the development certificate lives: <c>.dev-certs</c> beside the database file.</summary>
    public string CertificateDirectory
        => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(DatabasePath)) ?? ".", ".dev-certs");

    /// <summary>
    /// Parses the command line strictly: unknown flags, missing or malformed values, a flag given twice, a
    /// non-loopback address and stray arguments are errors. A value follows its flag or comes after <c>=</c>.
    /// </summary>
    /// <param name="args">The arguments, without the program name.</param>
    /// <param name="options">The options, when valid.</param>
    /// <param name="error">What is wrong, when not valid; null for <c>--help</c>.</param>
    /// <returns>True when the options are valid; false on an error or a request for help.</returns>
    public static bool TryParse(IReadOnlyList<string> args, out CatcherOptions options, out string? error)
    {
        ArgumentNullException.ThrowIfNull(args);
        options = new CatcherOptions();
        error = null;
        if (args.Any(static a => a is "--help" or "-h"))
        {
            return false;
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                error = $"unexpected argument '{arg}'";
                return false;
            }

            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals > 0 ? arg[..equals] : arg;
            if (name is not ("--http" or "--smtp" or "--user" or "--db" or "--keep"))
            {
                error = $"unknown option '{name}'";
                return false;
            }

            if (!seen.Add(name))
            {
                error = $"{name} is given more than once";
                return false;
            }

            string value;
            if (equals > 0)
            {
                value = arg[(equals + 1)..];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            else
            {
                error = $"{name} needs a value";
                return false;
            }

            error = Apply(name, value, ref options);
            if (error is not null)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Parses a loopback <c>HOST:PORT</c>: an IPv4 address, a bracketed IPv6 address or <c>localhost</c>.</summary>
    /// <param name="value">The text.</param>
    /// <param name="endPoint">The endpoint.</param>
    /// <returns>Null, or what is wrong.</returns>
    public static string? ParseLoopbackEndPoint(string value, out IPEndPoint endPoint)
    {
        ArgumentNullException.ThrowIfNull(value);
        endPoint = new IPEndPoint(IPAddress.Loopback, 0);
        var colon = value.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > IPEndPoint.MaxPort)
        {
            return $"'{value}' is not HOST:PORT with a port from 0 to 65535";
        }

        var host = value[..colon];
        IPAddress? address;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (host.StartsWith('[') && host.EndsWith(']'))
        {
            _ = IPAddress.TryParse(host.AsSpan(1, host.Length - 2), out address);
            address = address?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? address : null;
        }
        else
        {
            _ = IPAddress.TryParse(host, out address);
            address = address?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? address : null;
        }

        if (address is null)
        {
            return $"'{host}' is not an IPv4 address, a bracketed IPv6 address or localhost";
        }

        // A mail catcher accepts mail from anyone and shows it to anyone: never reachable from the network.
        if (!IPAddress.IsLoopback(address))
        {
            return $"'{host}' is not a loopback address; the mail catcher listens on loopback only";
        }

        endPoint = new IPEndPoint(address, port);
        return null;
    }

    private static string? Apply(string name, string value, ref CatcherOptions options)
    {
        switch (name)
        {
            case "--http":
            case "--smtp":
            {
                var error = ParseLoopbackEndPoint(value, out var endPoint);
                if (error is null)
                {
                    options = name == "--http" ? options with { Http = endPoint } : options with { Smtp = endPoint };
                }

                return error is null ? null : $"{name}: {error}";
            }

            case "--user":
            {
                var colon = value.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0 || colon == value.Length - 1)
                {
                    return "--user needs NAME:PASSWORD, both non-empty";
                }

                options = options with { UserName = value[..colon], Password = value[(colon + 1)..] };
                return null;
            }

            case "--db":
                if (string.IsNullOrWhiteSpace(value))
                {
                    return "--db needs a file path";
                }

                options = options with { DatabasePath = value };
                return null;
            default:
                if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var keep) || keep < 1)
                {
                    return $"--keep needs a whole number of at least 1, not '{value}'";
                }

                options = options with { Keep = keep };
                return null;
        }
    }
}
