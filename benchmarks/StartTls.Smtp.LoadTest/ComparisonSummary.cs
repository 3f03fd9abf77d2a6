using System.Globalization;
using System.Text.Json;

namespace StartTls.Smtp.LoadTest;

/// <summary>
/// Turns the JSON lines of benchmarks/run-comparison.sh (labels: case, server = ours|theirs, rep) into markdown tables:
/// medians per case and side, the ratio ours/theirs, and each target of the load issue, met or not.
/// </summary>
internal static class ComparisonSummary
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    private static readonly (string Id, string Load)[] Cases =
    [
        ("a", "1 KB, 16 x 500, plaintext"),
        ("a-pipe", "1 KB, 16 x 500, PIPELINING"),
        ("b", "1 KB, 16 x 500, STARTTLS per connection"),
        ("c", "100 KB, 4 x 200, plaintext"),
        ("d", "1 KB, 8 x 100, new connection + full TLS handshake per message"),
        ("f", "(a) into Maildir with fsync vs SmtpServer's .eml writer (no fsync)"),
    ];

    private static readonly (string Id, string Load)[] IdleCases =
    [
        ("e-plain", "idle after EHLO, plaintext"),
        ("e-tls", "idle after STARTTLS + EHLO"),
    ];

    /// <summary>Prints the tables.</summary>
    /// <param name="path">The JSON-lines file.</param>
    /// <param name="output">Where to write.</param>
    /// <param name="peer">The label of the other side: <c>theirs</c> (SmtpServer 11.1.0) or <c>kestrel</c> (our server on Kestrel).</param>
    /// <returns>The exit code: 0, or 1 when the file has no runs.</returns>
    public static int Print(string path, TextWriter output, string peer = "theirs")
    {
        var peerName = peer == "theirs" ? "SmtpServer" : peer;
        var runs = new List<JsonElement>();
        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith('{'))
            {
                using var document = JsonDocument.Parse(line);
                runs.Add(document.RootElement.Clone());
            }
        }

        if (runs.Count == 0)
        {
            output.WriteLine($"no runs in {path}");
            return 1;
        }

        var groups = runs
            .Where(static r => r.TryGetProperty("labels", out var l) && l.TryGetProperty("case", out _) && l.TryGetProperty("server", out _))
            .GroupBy(static r => (Case: r.GetProperty("labels").GetProperty("case").GetString()!, Server: r.GetProperty("labels").GetProperty("server").GetString()!))
            .ToDictionary(static g => g.Key, static g => g.ToList());

        double Median(string id, string server, Func<JsonElement, double> metric)
        {
            if (!groups.TryGetValue((id, server), out var list))
            {
                return double.NaN;
            }

            var values = list.Select(metric).Where(double.IsFinite).Order().ToArray();
            return values.Length == 0 ? double.NaN
                : values.Length % 2 == 1 ? values[values.Length / 2]
                : (values[(values.Length / 2) - 1] + values[values.Length / 2]) / 2;
        }

        int Count(string id, string server) => groups.TryGetValue((id, server), out var list) ? list.Count : 0;

        long Failures(string id, string server) => groups.TryGetValue((id, server), out var list)
            ? list.Sum(static r => r.GetProperty("failed").GetInt64() + r.GetProperty("warmup_failed").GetInt64() + (r.GetProperty("timed_out").GetBoolean() ? 1 : 0))
            : 0;

        output.WriteLine("| Case | Load | Runs | msg/s ours | msg/s " + peerName + " | ours/" + peer + " | MB/s ours | MB/s " + peerName + " | latency p50 / p99 ms, ours | latency p50 / p99 ms, " + peerName + " | server CPU us/msg, ours | server CPU us/msg, " + peerName + " | peak RSS MiB, ours | peak RSS MiB, " + peerName + " | failures ours / " + peerName + " |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (id, load) in Cases)
        {
            if (Count(id, "ours") + Count(id, peer) == 0)
            {
                continue;
            }

            var oursRate = Median(id, "ours", static r => Num(r, "msgs_per_s"));
            var theirsRate = Median(id, peer, static r => Num(r, "msgs_per_s"));
            output.WriteLine(
                $"| {id} | {load} | {Count(id, "ours")} / {Count(id, peer)} | {F(oursRate, 0)} | {F(theirsRate, 0)} | {Ratio(oursRate, theirsRate)} " +
                $"| {F(Median(id, "ours", static r => Num(r, "mb_per_s")), 2)} | {F(Median(id, peer, static r => Num(r, "mb_per_s")), 2)} " +
                $"| {F(Median(id, "ours", static r => Num(r, "latency_ms_p50")), 2)} / {F(Median(id, "ours", static r => Num(r, "latency_ms_p99")), 2)} " +
                $"| {F(Median(id, peer, static r => Num(r, "latency_ms_p50")), 2)} / {F(Median(id, peer, static r => Num(r, "latency_ms_p99")), 2)} " +
                $"| {F(Median(id, "ours", static r => Num(r, "server_cpu_us_per_msg")), 1)} | {F(Median(id, peer, static r => Num(r, "server_cpu_us_per_msg")), 1)} " +
                $"| {F(Median(id, "ours", static r => Num(r, "server_rss_kb_peak") / 1024), 1)} | {F(Median(id, peer, static r => Num(r, "server_rss_kb_peak") / 1024), 1)} " +
                $"| {Failures(id, "ours")} / {Failures(id, peer)} |");
        }

        output.WriteLine();
        output.WriteLine("| Case | Load | Runs | connections open, ours / " + peerName + " | KiB per connection, ours | KiB per connection, " + peerName + " | ours/" + peer + " | marginal KiB/conn, ours / " + peerName + " | set-up p50 / p99 ms, ours | set-up p50 / p99 ms, " + peerName + " | failures ours / " + peerName + " |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var (id, load) in IdleCases)
        {
            if (Count(id, "ours") + Count(id, peer) == 0)
            {
                continue;
            }

            var ours = Median(id, "ours", static r => Num(r, "idle_kb_per_conn"));
            var theirs = Median(id, peer, static r => Num(r, "idle_kb_per_conn"));
            output.WriteLine(
                $"| {id} | {load} | {Count(id, "ours")} / {Count(id, peer)} " +
                $"| {F(Median(id, "ours", static r => Num(r, "idle_open")), 0)} / {F(Median(id, peer, static r => Num(r, "idle_open")), 0)} " +
                $"| {F(ours, 2)} | {F(theirs, 2)} | {Ratio(ours, theirs)} " +
                $"| {F(Median(id, "ours", static r => Num(r, "idle_kb_per_conn_marginal")), 2)} / {F(Median(id, peer, static r => Num(r, "idle_kb_per_conn_marginal")), 2)} " +
                $"| {F(Median(id, "ours", static r => Num(r, "latency_ms_p50")), 2)} / {F(Median(id, "ours", static r => Num(r, "latency_ms_p99")), 2)} " +
                $"| {F(Median(id, peer, static r => Num(r, "latency_ms_p50")), 2)} / {F(Median(id, peer, static r => Num(r, "latency_ms_p99")), 2)} " +
                $"| {Failures(id, "ours")} / {Failures(id, peer)} |");
        }

        if (peer != "theirs")
        {
            // The targets compare with SmtpServer 11.1.0; against our own server on Kestrel the tables are the result.
            return 0;
        }

        output.WriteLine();
        output.WriteLine("| Target | Measured (medians) | Met |");
        output.WriteLine("|---|---|---|");
        void Target(string text, string measured, bool? met) =>
            output.WriteLine($"| {text} | {measured} | {(met is null ? "not measured" : met.Value ? "yes" : "**no**")} |");

        double RateRatio(string id, string metric) => Median(id, "ours", r => Num(r, metric)) / Median(id, peer, r => Num(r, metric));
        bool? AtLeast(double value, double bound) => double.IsFinite(value) ? value >= bound : null;
        bool? AtMost(double value, double bound) => double.IsFinite(value) ? value <= bound : null;

        var a = RateRatio("a", "msgs_per_s");
        Target("(a) msg/s >= 1.5x", $"{F(a, 2)}x", AtLeast(a, 1.5));
        var cpu = Median("a", "ours", static r => Num(r, "server_cpu_us_per_msg"));
        Target("(a) server CPU <= 20 us/msg", $"{F(cpu, 1)} us/msg", AtMost(cpu, 20));
        var pipe = RateRatio("a-pipe", "msgs_per_s");
        Target("(a-pipe) msg/s >= 1.5x", $"{F(pipe, 2)}x", AtLeast(pipe, 1.5));
        var b = RateRatio("b", "msgs_per_s");
        Target("(b) msg/s >= 1.5x", $"{F(b, 2)}x", AtLeast(b, 1.5));
        var c = RateRatio("c", "mb_per_s");
        Target("(c) MB/s >= 1.2x", $"{F(c, 2)}x", AtLeast(c, 1.2));

        // "Flat memory": 100 KB messages must not cost more server memory than 1 KB ones: the RSS growth over the
        // run (peak minus start) in (c) may exceed that of (a) by at most 8 MiB, while (c) moves ~80 MB through.
        var growthC = Median("c", "ours", static r => (Num(r, "server_rss_kb_peak") - Num(r, "server_rss_kb_start")) / 1024);
        var growthA = Median("a", "ours", static r => (Num(r, "server_rss_kb_peak") - Num(r, "server_rss_kb_start")) / 1024);
        var peakC = Median("c", "ours", static r => Num(r, "server_rss_kb_peak") / 1024);
        var peakA = Median("a", "ours", static r => Num(r, "server_rss_kb_peak") / 1024);
        Target(
            "(c) flat memory: RSS growth in (c) <= growth in (a) + 8 MiB",
            $"growth {F(growthC, 1)} MiB vs {F(growthA, 1)} MiB; peak {F(peakC, 1)} MiB vs {F(peakA, 1)} MiB",
            AtMost(growthC - growthA, 8));
        var d = RateRatio("d", "msgs_per_s");
        Target("(d) msg/s >= 1.1x", $"{F(d, 2)}x", AtLeast(d, 1.1));
        var ePlain = Median("e-plain", "ours", static r => Num(r, "idle_kb_per_conn"));
        Target("(e) <= 4 KiB RSS per idle plaintext connection", $"{F(ePlain, 2)} KiB", AtMost(ePlain, 4));
        var eTls = Median("e-tls", "ours", static r => Num(r, "idle_kb_per_conn"));
        Target("(e) <= 16 KiB RSS per idle TLS connection", $"{F(eTls, 2)} KiB", AtMost(eTls, 16));
        var f = RateRatio("f", "msgs_per_s");
        Target("(f) durable Maildir msg/s >= 2x SmtpServer's .eml writer", $"{F(f, 2)}x", AtLeast(f, 2));
        return 0;
    }

    private static double Num(JsonElement run, string name) =>
        run.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : double.NaN;

    private static string F(double value, int decimals) => double.IsFinite(value) ? value.ToString("F" + decimals.ToString(C), C) : "-";

    private static string Ratio(double ours, double theirs) => double.IsFinite(ours) && double.IsFinite(theirs) && theirs > 0
        ? (ours / theirs).ToString("F2", C) + "x"
        : "-";
}
