using System.Globalization;
using System.Runtime.InteropServices;

namespace StartTls.Smtp.LoadTest;

/// <summary>
/// Reads a process's CPU time (utime + stime of all its threads, /proc/PID/stat) and resident set size
/// (/proc/PID/status VmRSS), and can sample the RSS in the background to find its peak during a run.
/// </summary>
internal sealed partial class ProcessProbe : IAsyncDisposable
{
    private static readonly double TicksPerSecond = ReadClockTicks();
    private readonly string _statPath;
    private readonly string _statusPath;
    private CancellationTokenSource? _sampling;
    private Task? _sampler;
    private long _peakRssKb;

    /// <summary>Initializes a new instance of the <see cref="ProcessProbe"/> class.</summary>
    /// <param name="pid">The process id.</param>
    public ProcessProbe(int pid)
    {
        Pid = pid;
        _statPath = $"/proc/{pid}/stat";
        _statusPath = $"/proc/{pid}/status";
    }

    /// <summary>Gets the process id.</summary>
    public int Pid { get; }

    /// <summary>Gets the largest RSS seen since <see cref="StartSampling"/>, in KiB.</summary>
    public long PeakRssKb => Math.Max(Interlocked.Read(ref _peakRssKb), 0);

    /// <summary>Reads the process's CPU time so far (user + system, all threads, in seconds).</summary>
    /// <returns>The CPU time, or NaN when the process is gone.</returns>
    public double ReadCpuSeconds()
    {
        var (user, system) = ReadCpuSplit();
        return user + system;
    }

    /// <summary>Reads the process's user and system CPU time so far (all threads, in seconds).</summary>
    /// <returns>(user, system), NaN when the process is gone.</returns>
    public (double User, double System) ReadCpuSplit()
    {
        string stat;
        try
        {
            stat = File.ReadAllText(_statPath);
        }
        catch (IOException)
        {
            return (double.NaN, double.NaN);
        }

        // pid (comm) state ppid ... : the command name may hold spaces or ')', so split after the last ')'.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var utime = long.Parse(fields[11], CultureInfo.InvariantCulture); // field 14
        var stime = long.Parse(fields[12], CultureInfo.InvariantCulture); // field 15
        return (utime / TicksPerSecond, stime / TicksPerSecond);
    }

    /// <summary>Reads the process's resident set size.</summary>
    /// <returns>VmRSS in KiB, or -1 when the process is gone.</returns>
    public long ReadRssKb() => ReadStatusKb("VmRSS:");

    /// <summary>Starts sampling the RSS every 50 ms.</summary>
    public void StartSampling()
    {
        _peakRssKb = ReadRssKb();
        _sampling = new CancellationTokenSource();
        var token = _sampling.Token;
        _sampler = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(50));
            try
            {
                while (await timer.WaitForNextTickAsync(token))
                {
                    Observe();
                }
            }
            catch (OperationCanceledException)
            {
                // stopped
            }
        }, CancellationToken.None);
    }

    /// <summary>Stops sampling (taking one last sample).</summary>
    /// <returns>A task that completes when the sampler has stopped.</returns>
    public async Task StopSamplingAsync()
    {
        if (_sampling is null || _sampler is null)
        {
            return;
        }

        await _sampling.CancelAsync();
        await _sampler;
        Observe();
        _sampling.Dispose();
        _sampling = null;
        _sampler = null;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await StopSamplingAsync();

    /// <summary>Reads the busy and total jiffies of the whole machine from /proc/stat.</summary>
    /// <returns>(busy, total) in clock ticks.</returns>
    public static (long Busy, long Total) ReadMachineCpu()
    {
        using var reader = new StreamReader("/proc/stat");
        var line = reader.ReadLine() ?? string.Empty; // cpu user nice system idle iowait irq softirq steal ...
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long total = 0;
        long idle = 0;
        for (var i = 1; i < fields.Length && i <= 8; i++)
        {
            var value = long.Parse(fields[i], CultureInfo.InvariantCulture);
            total += value;
            if (i is 4 or 5)
            {
                idle += value; // idle, iowait
            }
        }

        return (total - idle, total);
    }

    private void Observe()
    {
        var rss = ReadRssKb();
        long seen;
        while (rss > (seen = Interlocked.Read(ref _peakRssKb)) && Interlocked.CompareExchange(ref _peakRssKb, rss, seen) != seen)
        {
        }
    }

    private long ReadStatusKb(string key)
    {
        try
        {
            foreach (var line in File.ReadLines(_statusPath))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    return long.Parse(line.AsSpan(key.Length).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
        }

        return -1;
    }

    private static double ReadClockTicks()
    {
        const int ScClkTck = 2; // _SC_CLK_TCK on Linux
        try
        {
            var ticks = SysConf(ScClkTck);
            return ticks > 0 ? ticks : 100;
        }
        catch (EntryPointNotFoundException)
        {
            return 100;
        }
        catch (DllNotFoundException)
        {
            return 100;
        }
    }

    [LibraryImport("libc", EntryPoint = "sysconf")]
    private static partial long SysConf(int name);
}
