using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace StartTls.Smtp.Transport;

/// <summary>
/// A list of IP networks in CIDR notation (<c>10.0.0.0/8</c>, <c>2001:db8::/32</c>, or a single address), matched
/// against client addresses. An IPv4 client seen on a dual-stack socket (<c>::ffff:a.b.c.d</c>) matches the IPv4
/// networks, and IPv4-mapped networks match plain IPv4 clients.
/// </summary>
internal sealed class TrustedNetworks
{
    /// <summary>No network: nothing matches.</summary>
    public static readonly TrustedNetworks None = new([]);

    private readonly IPNetwork[] _networks;

    private TrustedNetworks(IPNetwork[] networks) => _networks = networks;

    /// <summary>True when the list has no network.</summary>
    public bool IsEmpty => _networks.Length == 0;

    /// <summary>Parses every entry, or names the first that is not an address or a CIDR block.</summary>
    /// <param name="entries">The configured entries.</param>
    /// <param name="networks">The list, when every entry parsed.</param>
    /// <param name="invalid">The first entry that did not parse.</param>
    public static bool TryParse(IEnumerable<string?> entries, [NotNullWhen(true)] out TrustedNetworks? networks, out string? invalid)
    {
        var list = new List<IPNetwork>();
        foreach (var entry in entries)
        {
            if (!TryParseOne(entry, out var network))
            {
                networks = null;
                invalid = entry ?? "(null)";
                return false;
            }

            list.Add(network);
        }

        networks = list.Count == 0 ? None : new TrustedNetworks([.. list]);
        invalid = null;
        return true;
    }

    /// <summary>Parses the entries, which were validated before.</summary>
    public static TrustedNetworks Parse(IEnumerable<string?> entries)
        => TryParse(entries, out var networks, out var invalid) ? networks : throw new FormatException($"'{invalid}' is not an IP address or CIDR block.");

    /// <summary>True when <paramref name="address"/> is in one of the networks.</summary>
    public bool Contains(IPAddress? address)
    {
        if (address is null || _networks.Length == 0)
        {
            return false;
        }

        var normalized = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        foreach (var network in _networks)
        {
            if (network.Contains(normalized))
            {
                return true;
            }
        }

        return false;
    }

    private static bool TryParseOne(string? entry, out IPNetwork network)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(entry))
        {
            return false;
        }

        var text = entry.AsSpan().Trim();
        var slash = text.IndexOf('/');
        var addressText = slash < 0 ? text : text[..slash];
        // IPv4 only as a dotted quad: IPAddress would read "10.1" as 10.0.0.1, not the 10.1.0.0 an operator means.
        var ipv4Text = !addressText.Contains(':');
        if (addressText.Contains('%') || (ipv4Text && addressText.Count('.') != 3) || !IPAddress.TryParse(addressText, out var address))
        {
            return false;
        }

        var bits = address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        var prefix = bits;
        if (slash >= 0 && (!int.TryParse(text[(slash + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out prefix) || prefix > bits))
        {
            return false;
        }

        // An IPv4-mapped block (::ffff:10.0.0.0/104) is the IPv4 block it maps: clients are matched as IPv4.
        if (address.IsIPv4MappedToIPv6 && prefix >= 96)
        {
            address = address.MapToIPv4();
            prefix -= 96;
        }

        // A block written with host bits set (10.1.2.3/8) means the network that contains it.
        network = new IPNetwork(Mask(address, prefix), prefix);
        return true;
    }

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}
