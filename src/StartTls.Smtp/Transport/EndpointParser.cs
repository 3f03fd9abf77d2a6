using System.Globalization;
using System.Net;

namespace StartTls.Smtp.Transport;

/// <summary>Turns <c>HOST:PORT</c> strings into the addresses to bind.</summary>
internal static class EndpointParser
{
    /// <summary>
    /// Parses <paramref name="value"/>: <c>1.2.3.4:25</c>, <c>[::1]:25</c>, <c>localhost:25</c> (both loopbacks),
    /// <c>*:25</c> (every address, IPv6 dual-stack where available).
    /// </summary>
    public static bool TryParse(string? value, out IReadOnlyList<IPEndPoint> endPoints, out string? error)
    {
        endPoints = [];
        error = null;
        if (string.IsNullOrWhiteSpace(value))
        {
            error = "an endpoint address is empty";
            return false;
        }

        var colon = value.LastIndexOf(':');
        if (colon <= 0 || colon == value.Length - 1)
        {
            error = $"'{value}' is not HOST:PORT";
            return false;
        }

        var host = value[..colon];
        if (!int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            error = $"'{value}' has an invalid port";
            return false;
        }

        if (host == "*")
        {
            endPoints = [new IPEndPoint(System.Net.Sockets.Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any, port)];
            return true;
        }

        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            endPoints = System.Net.Sockets.Socket.OSSupportsIPv6
                ? [new IPEndPoint(IPAddress.Loopback, port), new IPEndPoint(IPAddress.IPv6Loopback, port)]
                : [new IPEndPoint(IPAddress.Loopback, port)];
            return true;
        }

        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }
        else if (host.Contains(':', StringComparison.Ordinal))
        {
            error = $"'{value}': write IPv6 addresses in brackets, as [::1]:25";
            return false;
        }

        if (!IPAddress.TryParse(host, out var address))
        {
            error = $"'{value}' does not name an IP address, 'localhost' or '*'";
            return false;
        }

        endPoints = [new IPEndPoint(address, port)];
        return true;
    }
}
