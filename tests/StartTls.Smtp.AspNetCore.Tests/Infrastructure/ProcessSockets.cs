using System.Globalization;

namespace StartTls.Smtp.AspNetCore.Tests.Infrastructure;

/// <summary>
/// The TCP ports this process itself listens on (Linux: its socket descriptors in /proc/self/fd matched with the
/// LISTEN entries of /proc/net/tcp and tcp6), so a test sees its own sockets and never another process's.
/// </summary>
public static class ProcessSockets
{
    public static bool Supported => OperatingSystem.IsLinux() && Directory.Exists("/proc/self/fd");

    public static HashSet<int> ListeningPorts()
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.EnumerateFiles("/proc/self/fd"))
        {
            try
            {
                var target = new FileInfo(fd).LinkTarget;
                if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target[8..^1]);
                }
            }
            catch (IOException)
            {
                // The descriptor was closed while we looked.
            }
        }

        var ports = new HashSet<int>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

                // sl local_address rem_address st ... inode (field 9); state 0A is LISTEN.
                if (fields.Length > 9 && fields[3] == "0A" && inodes.Contains(fields[9]))
                {
                    ports.Add(int.Parse(fields[1][(fields[1].IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                }
            }
        }

        return ports;
    }
}
