using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace StartTls.Smtp.LoadTest;

/// <summary>One measured run: warm-up, then the measured phase with the server's CPU and RSS read around it.</summary>
internal sealed class LoadRun
{
    private LoadRun(LoadOptions options) => Options = options;

    /// <summary>Gets the options of the run.</summary>
    public LoadOptions Options { get; }

    /// <summary>Gets the messages accepted (idle modes: sessions established).</summary>
    public long Ok { get; private set; }

    /// <summary>Gets the messages (idle modes: sessions) asked for.</summary>
    public long Attempted => IsIdle ? Options.Connections : (long)Options.Connections * Options.Messages;

    /// <summary>Gets the messages (idle modes: sessions) not accepted, for whatever reason.</summary>
    public long Failed { get; private set; }

    /// <summary>Gets the failure events by reply code or error kind (a connection may fail more than once).</summary>
    public SortedDictionary<string, long> Failures { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets the failures during warm-up (not counted above).</summary>
    public long WarmupFailed { get; private set; }

    /// <summary>Gets the warm-up failures by reply code or error kind.</summary>
    public SortedDictionary<string, long> WarmupFailures { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets a value indicating whether the duration limit cut the run short.</summary>
    public bool TimedOut { get; private set; }

    /// <summary>Gets the measured wall-clock time.</summary>
    public TimeSpan Elapsed { get; private set; }

    /// <summary>Gets the sorted latencies in milliseconds.</summary>
    public double[] LatenciesMs { get; private set; } = [];

    /// <summary>Gets the TLS protocol negotiated, if any.</summary>
    public string? TlsProtocol { get; private set; }

    /// <summary>Gets the TLS cipher suite negotiated, if any.</summary>
    public string? TlsCipher { get; private set; }

    /// <summary>Gets the server's CPU seconds during the measured phase (NaN without a pid).</summary>
    public double ServerCpuSeconds { get; private set; } = double.NaN;

    /// <summary>Gets the server's user-mode CPU seconds during the measured phase.</summary>
    public double ServerCpuUserSeconds { get; private set; } = double.NaN;

    /// <summary>Gets the server's kernel-mode CPU seconds during the measured phase.</summary>
    public double ServerCpuSystemSeconds { get; private set; } = double.NaN;

    /// <summary>Gets the server's RSS at the start of the measured phase, in KiB (-1 without a pid).</summary>
    public long ServerRssStartKb { get; private set; } = -1;

    /// <summary>Gets the server's RSS at the end of the measured phase, in KiB.</summary>
    public long ServerRssEndKb { get; private set; } = -1;

    /// <summary>Gets the server's largest RSS sampled during the measured phase, in KiB.</summary>
    public long ServerRssPeakKb { get; private set; } = -1;

    /// <summary>Gets the idle modes' RSS with a quarter of the connections open, in KiB.</summary>
    public long IdleRssQuarterKb { get; private set; } = -1;

    /// <summary>Gets the idle modes' RSS with all connections open, after the hold, in KiB.</summary>
    public long IdleRssAllKb { get; private set; } = -1;

    /// <summary>Gets the idle modes' connections open at once.</summary>
    public int IdleOpen { get; private set; }

    /// <summary>Gets the idle modes' connections open at the quarter mark.</summary>
    public int IdleOpenQuarter { get; private set; }

    /// <summary>Gets this tool's own CPU seconds during the measured phase.</summary>
    public double ClientCpuSeconds { get; private set; }

    /// <summary>Gets the share of the machine's CPU that was busy during the measured phase, in percent.</summary>
    public double MachineBusyPercent { get; private set; }

    private bool IsIdle => Options.Mode is LoadMode.Idle or LoadMode.IdleTls;

    private double MessagesPerSecond => Ok / Math.Max(Elapsed.TotalSeconds, 1e-9);

    private double MegabytesPerSecond => MessagesPerSecond * Options.Size / 1e6;

    private double ServerCpuMicrosPerMessage => ServerCpuSeconds * 1e6 / Math.Max(Ok, 1);

    private double ClientCpuMicrosPerMessage => ClientCpuSeconds * 1e6 / Math.Max(Ok, 1);

    private double IdleKbPerConnection => IdleOpen > 0 && IdleRssAllKb > 0 ? (IdleRssAllKb - ServerRssStartKb) / (double)IdleOpen : double.NaN;

    private double IdleKbPerConnectionMarginal => IdleOpen > IdleOpenQuarter && IdleRssQuarterKb > 0
        ? (IdleRssAllKb - IdleRssQuarterKb) / (double)(IdleOpen - IdleOpenQuarter)
        : double.NaN;

    /// <summary>Runs the load the options describe.</summary>
    /// <param name="options">The options.</param>
    /// <returns>The result.</returns>
    public static async Task<LoadRun> RunAsync(LoadOptions options)
    {
        var run = new LoadRun(options);
        using var limit = new CancellationTokenSource(options.DurationLimit);
        var token = limit.Token;
        var runner = new LoadRunner(options);
        await using var probe = options.ServerPid is { } pid ? new ProcessProbe(pid) : null;

        // Warm-up: the same mode, not measured (JIT tiering, thread pool, buffer pools on both sides).
        var warmup = options.EffectiveWarmup;
        if (warmup > 0)
        {
            WorkerStats[] warmupStats;
            if (run.IsIdle)
            {
                // Rounds of sessions opened and closed for the warm-up time, as in the message modes: otherwise the
                // JIT's work during the measured burst is counted as memory per session.
                var warmupClock = Stopwatch.StartNew();
                var rounds = new List<WorkerStats>();
                do
                {
                    var idleStats = new WorkerStats(warmup);
                    await LoadRunner.CloseAllAsync(await runner.OpenIdleAsync(warmup, idleStats, token));
                    rounds.Add(idleStats);
                }
                while (warmupClock.Elapsed < options.WarmupTime && !token.IsCancellationRequested);

                warmupStats = [.. rounds];
            }
            else
            {
                // Rounds until the warm-up time is spent: a fresh server's JIT reaches its optimized tier only after
                // some seconds of traffic, and the measured phase should see the steady state.
                var warmupClock = Stopwatch.StartNew();
                var rounds = new List<WorkerStats>();
                do
                {
                    rounds.AddRange(await runner.RunMessagesAsync(warmup, token));
                }
                while (warmupClock.Elapsed < options.WarmupTime && !token.IsCancellationRequested);

                warmupStats = [.. rounds];
            }

            foreach (var worker in warmupStats)
            {
                run.WarmupFailed += worker.Failed;
                foreach (var (key, count) in worker.Failures)
                {
                    run.WarmupFailures[key] = run.WarmupFailures.GetValueOrDefault(key) + count;
                }
            }

            await Task.Delay(run.IsIdle ? TimeSpan.FromSeconds(2) : TimeSpan.FromMilliseconds(300), CancellationToken.None);
        }

        var cpuStart = probe?.ReadCpuSplit() ?? (double.NaN, double.NaN);
        run.ServerRssStartKb = probe?.ReadRssKb() ?? -1;
        probe?.StartSampling();
        var machineStart = ProcessProbe.ReadMachineCpu();
        var self = Process.GetCurrentProcess();
        var clientStart = self.TotalProcessorTime;
        var clock = Stopwatch.StartNew();

        WorkerStats[] stats;
        if (run.IsIdle)
        {
            var all = new WorkerStats(options.Connections);
            var quarter = Math.Max(1, options.Connections / 4);
            var open = await runner.OpenIdleAsync(quarter, all, token);
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(1), token);
                run.IdleOpenQuarter = open.Count;
                run.IdleRssQuarterKb = probe?.ReadRssKb() ?? -1;
                open.AddRange(await runner.OpenIdleAsync(options.Connections - quarter, all, token));
                run.IdleOpen = open.Count;
                await Task.Delay(options.IdleHold, token);
                run.IdleRssAllKb = probe?.ReadRssKb() ?? -1;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                run.IdleOpen = open.Count;
            }
            finally
            {
                clock.Stop(); // the idle "elapsed" is the set-up plus the hold, before the close
                await LoadRunner.CloseAllAsync(open);
            }

            stats = [all];
        }
        else
        {
            stats = await runner.RunMessagesAsync(options.Messages, token);
            clock.Stop();
        }

        run.Elapsed = clock.Elapsed;
        run.ClientCpuSeconds = (self.TotalProcessorTime - clientStart).TotalSeconds;
        var machineEnd = ProcessProbe.ReadMachineCpu();
        run.MachineBusyPercent = 100.0 * (machineEnd.Busy - machineStart.Busy) / Math.Max(1, machineEnd.Total - machineStart.Total);
        if (probe is not null)
        {
            var cpuEnd = probe.ReadCpuSplit();
            run.ServerCpuUserSeconds = cpuEnd.User - cpuStart.User;
            run.ServerCpuSystemSeconds = cpuEnd.System - cpuStart.System;
            run.ServerCpuSeconds = run.ServerCpuUserSeconds + run.ServerCpuSystemSeconds;
            run.ServerRssEndKb = probe.ReadRssKb();
            await probe.StopSamplingAsync();
            run.ServerRssPeakKb = probe.PeakRssKb;
        }

        run.TimedOut = token.IsCancellationRequested;
        foreach (var worker in stats)
        {
            run.Ok += worker.Ok;
            foreach (var (key, count) in worker.Failures)
            {
                run.Failures[key] = run.Failures.GetValueOrDefault(key) + count;
            }

            run.TlsProtocol ??= worker.TlsProtocol;
            run.TlsCipher ??= worker.TlsCipher;
        }

        // The failures above are events (a refused connection may be retried); what failed is what was not accepted.
        run.Failed = run.Attempted - run.Ok;
        var latencies = stats.SelectMany(static s => s.Latencies).Select(static t => t * 1000.0 / Stopwatch.Frequency).ToArray();
        Array.Sort(latencies);
        run.LatenciesMs = latencies;
        return run;
    }

    /// <summary>The latency at the given percentile (nearest rank), in milliseconds.</summary>
    /// <param name="percentile">0 to 100.</param>
    /// <returns>The latency, or NaN with no samples.</returns>
    public double Percentile(double percentile)
    {
        if (LatenciesMs.Length == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(percentile / 100.0 * LatenciesMs.Length);
        return LatenciesMs[Math.Clamp(rank - 1, 0, LatenciesMs.Length - 1)];
    }

    /// <summary>One line for people.</summary>
    /// <returns>The line.</returns>
    public string HumanLine()
    {
        var c = CultureInfo.InvariantCulture;
        var o = Options;
        var text = new StringBuilder();
        text.Append(c, $"{o.ModeName} {o.Connections}x{o.Messages} {o.Size} B: ");
        if (IsIdle)
        {
            text.Append(c, $"{IdleOpen} of {o.Connections} sessions open; set-up p50 {Percentile(50):F2} ms p99 {Percentile(99):F2} ms");
            if (ServerRssStartKb > 0)
            {
                text.Append(c, $"; server RSS {ServerRssStartKb / 1024.0:F1} -> {IdleRssAllKb / 1024.0:F1} MiB = {IdleKbPerConnection:F2} KiB/connection (marginal {IdleKbPerConnectionMarginal:F2})");
            }
        }
        else
        {
            text.Append(c, $"{Ok} ok, {Failed} failed in {Elapsed.TotalSeconds:F2} s = {MessagesPerSecond:F0} msg/s, {MegabytesPerSecond:F2} MB/s, latency p50 {Percentile(50):F2} ms p99 {Percentile(99):F2} ms");
            if (ServerRssStartKb > 0)
            {
                text.Append(c, $"; server CPU {ServerCpuMicrosPerMessage:F1} us/msg ({ServerCpuUserSeconds * 1e6 / Math.Max(Ok, 1):F0} user + {ServerCpuSystemSeconds * 1e6 / Math.Max(Ok, 1):F0} sys), RSS {ServerRssStartKb / 1024.0:F1} -> {ServerRssEndKb / 1024.0:F1} MiB (peak {ServerRssPeakKb / 1024.0:F1})");
            }

            text.Append(c, $"; client CPU {ClientCpuMicrosPerMessage:F1} us/msg");
        }

        text.Append(c, $"; machine busy {MachineBusyPercent:F0}%");
        if (TlsProtocol is not null)
        {
            text.Append(c, $"; {TlsProtocol} {TlsCipher}");
        }

        if (Failures.Count > 0)
        {
            text.Append("; failures: ").AppendJoin(", ", Failures.Select(static f => $"{f.Key} x{f.Value}"));
        }

        if (WarmupFailed > 0)
        {
            text.Append(c, $"; warm-up failures: ").AppendJoin(", ", WarmupFailures.Select(static f => $"{f.Key} x{f.Value}"));
        }

        if (TimedOut)
        {
            text.Append("; STOPPED BY THE DURATION LIMIT");
        }

        return text.ToString();
    }

    /// <summary>One JSON line for scripts.</summary>
    /// <returns>The JSON text, without a line break.</returns>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            var o = Options;
            json.WriteStartObject();
            json.WriteString("tool", "StartTls.Smtp.LoadTest");
            json.WriteString("time", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
            json.WriteStartObject("labels");
            foreach (var (key, value) in o.Labels)
            {
                json.WriteString(key, value);
            }

            json.WriteEndObject();
            json.WriteString("mode", o.ModeName);
            json.WriteString("host", o.Host.ToString());
            json.WriteNumber("port", o.Port);
            json.WriteNumber("connections", o.Connections);
            json.WriteNumber("messages_per_connection", o.Messages);
            json.WriteNumber("size", o.Size);
            json.WriteNumber("warmup", o.EffectiveWarmup);
            json.WriteString("io", o.AsyncIo || IsIdle ? "async" : "sync");
            json.WriteNumber("cores", Environment.ProcessorCount);
            json.WriteNumber("attempted", Attempted);
            json.WriteNumber("ok", Ok);
            json.WriteNumber("failed", Failed);
            json.WriteStartObject("failures");
            foreach (var (key, count) in Failures)
            {
                json.WriteNumber(key, count);
            }

            json.WriteEndObject();
            json.WriteNumber("warmup_failed", WarmupFailed);
            json.WriteStartObject("warmup_failures");
            foreach (var (key, count) in WarmupFailures)
            {
                json.WriteNumber(key, count);
            }

            json.WriteEndObject();
            json.WriteBoolean("timed_out", TimedOut);
            Number(json, "elapsed_s", Elapsed.TotalSeconds);
            if (!IsIdle)
            {
                Number(json, "msgs_per_s", MessagesPerSecond);
                Number(json, "mb_per_s", MegabytesPerSecond);
            }

            Number(json, "latency_ms_p50", Percentile(50));
            Number(json, "latency_ms_p90", Percentile(90));
            Number(json, "latency_ms_p99", Percentile(99));
            Number(json, "latency_ms_max", LatenciesMs.Length > 0 ? LatenciesMs[^1] : double.NaN);
            if (TlsProtocol is not null)
            {
                json.WriteString("tls_protocol", TlsProtocol);
                json.WriteString("tls_cipher", TlsCipher);
            }

            if (o.ServerPid is { } pid)
            {
                json.WriteNumber("server_pid", pid);
                Number(json, "server_cpu_s", ServerCpuSeconds);
                Number(json, "server_cpu_user_s", ServerCpuUserSeconds);
                Number(json, "server_cpu_sys_s", ServerCpuSystemSeconds);
                if (!IsIdle)
                {
                    Number(json, "server_cpu_us_per_msg", ServerCpuMicrosPerMessage);
                }

                json.WriteNumber("server_rss_kb_start", ServerRssStartKb);
                json.WriteNumber("server_rss_kb_end", ServerRssEndKb);
                json.WriteNumber("server_rss_kb_peak", ServerRssPeakKb);
                if (IsIdle)
                {
                    json.WriteNumber("idle_open", IdleOpen);
                    json.WriteNumber("idle_open_quarter", IdleOpenQuarter);
                    json.WriteNumber("idle_rss_kb_quarter", IdleRssQuarterKb);
                    json.WriteNumber("idle_rss_kb_all", IdleRssAllKb);
                    Number(json, "idle_kb_per_conn", IdleKbPerConnection);
                    Number(json, "idle_kb_per_conn_marginal", IdleKbPerConnectionMarginal);
                }
            }
            else if (IsIdle)
            {
                json.WriteNumber("idle_open", IdleOpen);
            }

            Number(json, "client_cpu_s", ClientCpuSeconds);
            if (!IsIdle)
            {
                Number(json, "client_cpu_us_per_msg", ClientCpuMicrosPerMessage);
            }

            Number(json, "machine_busy_pct", MachineBusyPercent);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void Number(Utf8JsonWriter json, string name, double value)
    {
        if (double.IsFinite(value))
        {
            json.WriteNumber(name, Math.Round(value, 4));
        }
        else
        {
            json.WriteNull(name);
        }
    }
}
