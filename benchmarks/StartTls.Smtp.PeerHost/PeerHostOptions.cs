using System.Globalization;
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using SmtpServer.Storage;

namespace StartTls.Smtp.PeerHost;

/// <summary>The outcome of <see cref="PeerHostOptions.Parse"/>.</summary>
/// <param name="Options">The options, when the command line is valid.</param>
/// <param name="Error">What is wrong, when it is not.</param>
/// <param name="ShowHelp">True when <c>--help</c> was given.</param>
internal sealed record PeerHostParseResult(PeerHostOptions? Options, string? Error, bool ShowHelp);

/// <summary>The peer host's command line.</summary>
internal sealed record PeerHostOptions
{
    /// <summary>The text printed by <c>--help</c>.</summary>
    public const string Usage = """
        Usage: StartTls.Smtp.PeerHost --port N [options]

        Hosts the SmtpServer NuGet package (11.1.0) on a loopback port, for load comparisons.

          --listen ADDRESS      127.0.0.1 (default) or ::1; nothing else (a benchmark peer, never exposed).
          --port N              The port (required).
          --store null|eml      null (default) acknowledges and discards; eml writes each message to a new file
                                in --dir (not fsynced: the package's own examples store this way).
          --dir PATH            The directory for --store eml (created if missing).
          --cert FILE           Offer STARTTLS with this certificate: a .pfx (no password), or a PEM chain.
          --key FILE            The PEM private key, when --cert is a PEM file without one.
          --tls-protocols LIST  tls12, tls13 or tls12,tls13 (default: tls12,tls13 like our server; the package's
                                own default is tls12 only).
          --help                Show this text.

        """;

    /// <summary>The address to listen on (loopback only).</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>The port to listen on.</summary>
    public int Port { get; init; }

    /// <summary>True for the .eml-file store, false for the null store.</summary>
    public bool EmlStore { get; init; }

    /// <summary>The directory of the .eml-file store.</summary>
    public string? Directory { get; init; }

    /// <summary>The certificate file, or null for no STARTTLS.</summary>
    public string? Certificate { get; init; }

    /// <summary>The PEM key file, or null.</summary>
    public string? Key { get; init; }

    /// <summary>The TLS versions offered.</summary>
    public SslProtocols SslProtocols { get; init; } = SslProtocols.Tls12 | SslProtocols.Tls13;

    /// <summary>A short description of the store for the start-up line.</summary>
    public string StoreDescription => EmlStore ? $"eml files in {Path.GetFullPath(Directory!)}" : "null";

    /// <summary>Parses the command line strictly.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The options, a request for help, or the first error.</returns>
    public static PeerHostParseResult Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Any(static a => a is "--help" or "-h"))
        {
            return new PeerHostParseResult(null, null, ShowHelp: true);
        }

        var options = new PeerHostOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Count)
            {
                return Fail($"{name} needs a value");
            }

            var value = args[++i];
            switch (name)
            {
                case "--listen":
                    if (!IPAddress.TryParse(value, out var address) || !IPAddress.IsLoopback(address))
                    {
                        return Fail("--listen must be a loopback address (127.0.0.1 or ::1)");
                    }

                    options = options with { Address = address };
                    break;
                case "--port":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
                    {
                        return Fail($"--port must be 1 to 65535, not '{value}'");
                    }

                    options = options with { Port = port };
                    break;
                case "--store":
                    if (value is not ("null" or "eml"))
                    {
                        return Fail($"--store must be null or eml, not '{value}'");
                    }

                    options = options with { EmlStore = value == "eml" };
                    break;
                case "--dir":
                    options = options with { Directory = value };
                    break;
                case "--cert":
                    options = options with { Certificate = value };
                    break;
                case "--key":
                    options = options with { Key = value };
                    break;
                case "--tls-protocols":
                    SslProtocols protocols = default;
                    foreach (var item in value.Split(','))
                    {
                        protocols |= item switch
                        {
                            "tls12" => SslProtocols.Tls12,
                            "tls13" => SslProtocols.Tls13,
                            _ => SslProtocols.None,
                        };
                        if (item is not ("tls12" or "tls13"))
                        {
                            return Fail($"--tls-protocols takes tls12 and/or tls13, not '{item}'");
                        }
                    }

                    options = options with { SslProtocols = protocols };
                    break;
                default:
                    return Fail($"unknown option '{name}'");
            }
        }

        if (options.Port == 0)
        {
            return Fail("--port is required");
        }

        if (options.EmlStore && options.Directory is null)
        {
            return Fail("--store eml needs --dir");
        }

        if (options.Key is not null && options.Certificate is null)
        {
            return Fail("--key needs --cert");
        }

        return new PeerHostParseResult(options, null, ShowHelp: false);
    }

    /// <summary>Loads the certificate, or returns null when none was given.</summary>
    /// <returns>The certificate with its private key, or null.</returns>
    public X509Certificate2? LoadCertificate()
    {
        if (Certificate is null)
        {
            return null;
        }

        if (Certificate.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || Certificate.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
        {
            return X509CertificateLoader.LoadPkcs12FromFile(Certificate, password: null);
        }

        return X509Certificate2.CreateFromPemFile(Certificate, Key);
    }

    /// <summary>Creates the message store the options ask for.</summary>
    /// <returns>The store.</returns>
    public IMessageStore CreateStore()
    {
        if (!EmlStore)
        {
            return new NullMessageStore();
        }

        System.IO.Directory.CreateDirectory(Directory!);
        return new EmlFileMessageStore(Directory!);
    }

    private static PeerHostParseResult Fail(string error) => new(null, error, ShowHelp: false);
}
