using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using StartTls.Smtp.Diagnostics;

using StartTls.Smtp.Protocol;

namespace StartTls.Smtp.Transport;

/// <summary>
/// Checks at start that the process may open a descriptor for every connection it will serve. Each connection is one
/// socket; beside them the process needs the descriptors open now (on Linux the runtime keeps two per loaded assembly,
/// about 130 for a hosted server) and a <see cref="Reserve"/> for what opens later. When <c>MaxConnections</c> does not
/// fit under the soft <c>RLIMIT_NOFILE</c>, it is lowered, with a warning: clients over it get <c>421 4.7.0</c>
/// instead of the process running out of descriptors.
/// </summary>
/// <remarks>
/// The runtime already raises the soft limit to the hard one at start (except on musl, and on macOS up to
/// <c>OPEN_MAX</c>), so the soft limit read here is the one to fit under. Windows has no such limit; nothing is checked.
/// </remarks>
internal static partial class FileDescriptorBudget
{
    /// <summary>
    /// Descriptors kept for what opens after the start: sockets of refused connections getting their 421
    /// (<see cref="ConnectionLimiter.MaxRefusalsInFlight"/>) and of accepted ones not yet counted
    /// (<see cref="SocketListener.MaxPendingDispatch"/>), the runtime's own (each new thread briefly needs two; a
    /// runtime that cannot start a thread may abort the process), assemblies loaded later (TLS loads several, two
    /// descriptors each), Maildir files being written (one per message in flight), log files and certificate reloads.
    /// </summary>
    public const int Reserve = 64;

    private const int RlimitNofileLinux = 7;
    private const int RlimitNofileMacOS = 8;

    /// <summary>Reads the limit and lowers <paramref name="limiter"/>'s maximum if it does not fit.</summary>
    /// <param name="limiter">The server's connection limiter.</param>
    /// <param name="logger">Where the warning goes.</param>
    public static void Apply(ConnectionLimiter limiter, ILogger logger)
    {
        if (!TryGetLimit(out var soft, out var hard))
        {
            return;
        }

        var open = CountOpen();
        var configured = limiter.MaxConnections;
        var effective = EffectiveMaxConnections(configured, soft, open);
        if (effective < configured)
        {
            Log.MaxConnectionsLowered(logger, soft, hard, open, Reserve, configured, effective);
            limiter.LowerMaxConnections(effective);
        }
        else
        {
            Log.FileDescriptorsSufficient(logger, soft, open, configured, Reserve);
        }
    }

    /// <summary>
    /// The connections that fit: <paramref name="configured"/>, or what is left of <paramref name="softLimit"/> after
    /// the <paramref name="open"/> descriptors and the <see cref="Reserve"/>, but at least 1 (a server that refuses
    /// everyone is no safer than one that serves a few).
    /// </summary>
    /// <param name="configured">The configured <c>MaxConnections</c>.</param>
    /// <param name="softLimit">The soft <c>RLIMIT_NOFILE</c>.</param>
    /// <param name="open">The descriptors open now.</param>
    /// <returns>The maximum to apply.</returns>
    public static int EffectiveMaxConnections(int configured, long softLimit, int open)
    {
        var room = softLimit - open - Reserve;
        return room >= configured ? configured : (int)Math.Max(1, room);
    }

    /// <summary>Reads the soft and hard <c>RLIMIT_NOFILE</c>; false where there is none or it cannot be read.</summary>
    /// <param name="soft">The soft limit, <see cref="long.MaxValue"/> for unlimited.</param>
    /// <param name="hard">The hard limit, <see cref="long.MaxValue"/> for unlimited.</param>
    /// <returns>True when read.</returns>
    public static bool TryGetLimit(out long soft, out long hard)
    {
        soft = hard = long.MaxValue;
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return false;
        }

        try
        {
            if (GetRLimit(OperatingSystem.IsMacOS() ? RlimitNofileMacOS : RlimitNofileLinux, out var limit) != 0)
            {
                return false;
            }

            soft = Clip(limit.Current);
            hard = Clip(limit.Maximum);
            return true;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The descriptors open in this process now (0 when they cannot be listed).</summary>
    /// <returns>The count.</returns>
    public static int CountOpen()
    {
        try
        {
            var count = 0;
            foreach (var unused in Directory.EnumerateFileSystemEntries(OperatingSystem.IsLinux() ? "/proc/self/fd" : "/dev/fd"))
            {
                count++;
            }

            return Math.Max(0, count - 1); // less the one listing the directory
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    // RLIM_INFINITY is all ones on Linux and 2^63-1 on macOS: either way more than anyone can open.
    private static long Clip(nuint value) => value >= long.MaxValue ? long.MaxValue : (long)value;

    // rlim_t is unsigned long: pointer-sized on Linux, 64 bits on (64-bit only) macOS.
    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public nuint Current;
        public nuint Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit")]
    private static partial int GetRLimit(int resource, out RLimit limit);
}
