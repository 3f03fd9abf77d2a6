using System.Globalization;
using System.Text;

namespace StartTls.Smtp.Storage;

/// <summary>
/// Unique Maildir file names in the usual form <c>{seconds}.M{microseconds}P{pid}Q{counter}.{host}</c>
/// (https://cr.yp.to/proto/maildir.html): the counter makes names unique within the process, the process id
/// between processes on one host, the host name between hosts sharing the directory.
/// </summary>
internal static class MaildirFileName
{
    private static long s_counter;

    /// <summary>Creates the next unique name.</summary>
    /// <param name="utcNow">The current time.</param>
    /// <param name="escapedHostName">The host name, escaped with <see cref="EscapeHostName"/>.</param>
    public static string Create(DateTimeOffset utcNow, string escapedHostName)
    {
        var counter = Interlocked.Increment(ref s_counter);
        var seconds = utcNow.ToUnixTimeSeconds();
        var microseconds = (utcNow.UtcTicks % TimeSpan.TicksPerSecond) / TimeSpan.TicksPerMicrosecond;
        return string.Create(CultureInfo.InvariantCulture,
            $"{seconds}.M{microseconds}P{Environment.ProcessId}Q{counter}.{escapedHostName}");
    }

    /// <summary>
    /// Makes a host name safe in a file name: <c>/</c> becomes <c>\057</c> and <c>:</c> becomes <c>\072</c>
    /// (the Maildir convention), and anything outside printable ASCII becomes <c>_</c>.
    /// </summary>
    public static string EscapeHostName(string hostName)
    {
        if (hostName.Length == 0)
        {
            return "localhost";
        }

        var builder = new StringBuilder(hostName.Length + 8);
        foreach (var c in hostName)
        {
            switch (c)
            {
                case '/':
                    builder.Append(@"\057");
                    break;
                case ':':
                    builder.Append(@"\072");
                    break;
                case '\\':
                    builder.Append(@"\134");
                    break;
                case < '!' or > '~':
                    builder.Append('_');
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.ToString();
    }
}
