using System.Globalization;
using System.Net;

namespace StartTls.Smtp.LoadTest;

/// <summary>What each connection does.</summary>
internal enum LoadMode
{
    /// <summary>Plaintext: EHLO once, then MAIL, RCPT, DATA and the content, one command at a time.</summary>
    Plain,

    /// <summary>STARTTLS once per connection (full handshake), then as <see cref="Plain"/> inside TLS.</summary>
    StartTls,

    /// <summary>A new connection, EHLO, STARTTLS with a full handshake, EHLO, one message and QUIT, per message.</summary>
    TlsPerMessage,

    /// <summary>Plaintext with PIPELINING: MAIL, RCPT and DATA in one write, then the content after the 354.</summary>
    Pipeline,

    /// <summary>C connections held open after EHLO, for the server's memory per idle connection.</summary>
    Idle,

    /// <summary>C connections held open after STARTTLS and a second EHLO.</summary>
    IdleTls,
}

/// <summary>The outcome of <see cref="LoadOptions.Parse"/>.</summary>
/// <param name="Options">The options, when valid.</param>
/// <param name="Error">What is wrong, when not.</param>
/// <param name="ShowHelp">True when <c>--help</c> was given.</param>
internal sealed record LoadParseResult(LoadOptions? Options, string? Error, bool ShowHelp);

/// <summary>The load tool's command line.</summary>
internal sealed record LoadOptions
{
    /// <summary>The text printed by <c>--help</c>.</summary>
    public const string Usage = """
        Usage: StartTls.Smtp.LoadTest [options]            run a load against an SMTP server on loopback
               StartTls.Smtp.LoadTest summarize FILE       print the comparison table of run-comparison.sh's runs

          --host ADDRESS         127.0.0.1 (default) or ::1; nothing else is accepted.
          --port N               The server's port (default 2525).
          --connections C        Concurrent connections (default 16). Idle modes: connections to hold open.
          --messages M           Messages per connection (default 500). tls-per-message: connections per worker.
          --size S               Message size in bytes, headers included, terminator excluded (default 1024).
          --mode MODE            plain | starttls | tls-per-message | pipeline | idle | idle-tls (default plain).
          --server-pid PID       The server process: CPU time and RSS are read from /proc/PID.
          --duration-limit SEC   Stop everything after SEC seconds, whatever is left (default 600).
          --warmup W             Messages per connection sent first and not measured (default: M/10, 5 to 50;
                                 idle modes: sessions opened and closed first, default 32). 0 for none.
          --warmup-seconds SEC   Repeat warm-up rounds for at least SEC seconds (default 5; idle modes too):
                                 a fresh server needs seconds of traffic to reach its optimized JIT tier.
          --idle-seconds SEC     Idle modes: how long the connections are held before RSS is read (default 5).
          --io sync|async        Message modes: a thread per connection with blocking calls (sync, the default:
                                 fewer system calls and thread switches, so less client CPU per message) or
                                 async sockets on the thread pool. Idle modes are always async.
          --label KEY=VALUE      Copied into the JSON result (repeatable), e.g. --label case=a --label server=ours.
          --output FILE          Also append the JSON line to FILE.
          --help                 Show this text.

        Prints one human-readable line and one JSON line. TLS accepts any certificate: loopback tests only.

        """;

    /// <summary>The server address (loopback only).</summary>
    public IPAddress Host { get; init; } = IPAddress.Loopback;

    /// <summary>The server port.</summary>
    public int Port { get; init; } = 2525;

    /// <summary>Concurrent connections.</summary>
    public int Connections { get; init; } = 16;

    /// <summary>Messages per connection.</summary>
    public int Messages { get; init; } = 500;

    /// <summary>The message size in bytes.</summary>
    public int Size { get; init; } = 1024;

    /// <summary>The mode.</summary>
    public LoadMode Mode { get; init; } = LoadMode.Plain;

    /// <summary>The server process id, or null.</summary>
    public int? ServerPid { get; init; }

    /// <summary>The wall-clock limit for the whole run.</summary>
    public TimeSpan DurationLimit { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>Warm-up messages per connection (or connections, in idle modes); null for the default.</summary>
    public int? Warmup { get; init; }

    /// <summary>The least time spent warming up (message modes).</summary>
    public TimeSpan WarmupTime { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long idle connections are held before RSS is read.</summary>
    public TimeSpan IdleHold { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>True for async sockets in the message modes; false for a blocking thread per connection.</summary>
    public bool AsyncIo { get; init; }

    /// <summary>Labels copied into the JSON result.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Labels { get; init; } = [];

    /// <summary>A file the JSON line is appended to, or null.</summary>
    public string? Output { get; init; }

    /// <summary>The mode's name as written on the command line.</summary>
    public string ModeName => ModeNames.First(p => p.Value == Mode).Key;

    /// <summary>The effective warm-up count.</summary>
    public int EffectiveWarmup => Warmup ?? Mode switch
    {
        // Idle modes: a few sessions opened and closed first (JIT, pools). Not as many as will be measured: memory
        // freed by closed sessions stays with the process and would hide most of the measured sessions' cost.
        LoadMode.Idle or LoadMode.IdleTls => Math.Min(Connections, 32),
        _ => Math.Clamp(Messages / 10, Math.Min(5, Messages), 50),
    };

    private static readonly Dictionary<string, LoadMode> ModeNames = new(StringComparer.Ordinal)
    {
        ["plain"] = LoadMode.Plain,
        ["starttls"] = LoadMode.StartTls,
        ["tls-per-message"] = LoadMode.TlsPerMessage,
        ["pipeline"] = LoadMode.Pipeline,
        ["idle"] = LoadMode.Idle,
        ["idle-tls"] = LoadMode.IdleTls,
    };

    /// <summary>Parses the command line strictly.</summary>
    /// <param name="args">The arguments.</param>
    /// <returns>The options, a request for help, or the first error.</returns>
    public static LoadParseResult Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Any(static a => a is "--help" or "-h"))
        {
            return new LoadParseResult(null, null, ShowHelp: true);
        }

        var options = new LoadOptions();
        var labels = new List<KeyValuePair<string, string>>();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (i + 1 >= args.Count)
            {
                return Fail($"{name} needs a value");
            }

            var value = args[++i];
            string? error = null;
            switch (name)
            {
                case "--host":
                    if (!IPAddress.TryParse(value, out var host) || !IPAddress.IsLoopback(host))
                    {
                        error = $"--host must be 127.0.0.1 or ::1 (loopback only), not '{value}'";
                    }
                    else
                    {
                        options = options with { Host = host };
                    }

                    break;
                case "--port":
                    error = Int(value, name, 1, 65535, v => options = options with { Port = v });
                    break;
                case "--connections":
                    error = Int(value, name, 1, 20000, v => options = options with { Connections = v });
                    break;
                case "--messages":
                    error = Int(value, name, 1, 10_000_000, v => options = options with { Messages = v });
                    break;
                case "--size":
                    error = Int(value, name, 200, 64 * 1024 * 1024, v => options = options with { Size = v });
                    break;
                case "--mode":
                    if (!ModeNames.TryGetValue(value, out var mode))
                    {
                        error = $"--mode must be one of {string.Join(", ", ModeNames.Keys)}, not '{value}'";
                    }
                    else
                    {
                        options = options with { Mode = mode };
                    }

                    break;
                case "--server-pid":
                    error = Int(value, name, 1, int.MaxValue, v => options = options with { ServerPid = v });
                    break;
                case "--duration-limit":
                    error = Int(value, name, 1, 24 * 3600, v => options = options with { DurationLimit = TimeSpan.FromSeconds(v) });
                    break;
                case "--warmup":
                    error = Int(value, name, 0, 1_000_000, v => options = options with { Warmup = v });
                    break;
                case "--warmup-seconds":
                    error = Int(value, name, 0, 3600, v => options = options with { WarmupTime = TimeSpan.FromSeconds(v) });
                    break;
                case "--idle-seconds":
                    error = Int(value, name, 0, 3600, v => options = options with { IdleHold = TimeSpan.FromSeconds(v) });
                    break;
                case "--io":
                    if (value is not ("sync" or "async"))
                    {
                        error = $"--io must be sync or async, not '{value}'";
                    }
                    else
                    {
                        options = options with { AsyncIo = value == "async" };
                    }

                    break;
                case "--label":
                    var equals = value.IndexOf('=', StringComparison.Ordinal);
                    if (equals <= 0)
                    {
                        error = $"--label must be KEY=VALUE, not '{value}'";
                    }
                    else
                    {
                        labels.Add(new(value[..equals], value[(equals + 1)..]));
                    }

                    break;
                case "--output":
                    options = options with { Output = value };
                    break;
                default:
                    error = $"unknown option '{name}'";
                    break;
            }

            if (error is not null)
            {
                return Fail(error);
            }
        }

        if (options.ServerPid is { } pid && !Directory.Exists($"/proc/{pid}"))
        {
            return Fail($"--server-pid {pid}: no such process in /proc");
        }

        return new LoadParseResult(options with { Labels = labels }, null, ShowHelp: false);
    }

    private static string? Int(string value, string name, int min, int max, Action<int> set)
    {
        if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var result) || result < min || result > max)
        {
            return $"{name} must be a whole number from {min} to {max}, not '{value}'";
        }

        set(result);
        return null;
    }

    private static LoadParseResult Fail(string error) => new(null, error, ShowHelp: false);
}
