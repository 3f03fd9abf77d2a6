using System.Net;

namespace StartTls.Smtp.Tests.Transport;

/// <summary>Builds PROXY protocol headers byte by byte, as the specification lays them out, for tests.</summary>
public static class ProxyHeaderBytes
{
    public static readonly byte[] Signature = [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    /// <summary>A version 1 header for the given endpoints (TCP4 or TCP6 by the source's family).</summary>
    public static byte[] V1(IPEndPoint source, IPEndPoint destination)
    {
        var family = source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? "TCP4" : "TCP6";
        return System.Text.Encoding.ASCII.GetBytes($"PROXY {family} {source.Address} {destination.Address} {source.Port} {destination.Port}\r\n");
    }

    /// <summary>A version 2 PROXY header over TCP for the given endpoints, with optional raw TLV bytes.</summary>
    public static byte[] V2(IPEndPoint source, IPEndPoint destination, byte[]? tlvs = null, byte command = 0x21, byte? familyTransport = null)
    {
        var v4 = source.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork;
        var addresses = new List<byte>();
        addresses.AddRange(source.Address.GetAddressBytes());
        addresses.AddRange(destination.Address.GetAddressBytes());
        addresses.Add((byte)(source.Port >> 8));
        addresses.Add((byte)source.Port);
        addresses.Add((byte)(destination.Port >> 8));
        addresses.Add((byte)destination.Port);
        addresses.AddRange(tlvs ?? []);
        return Raw(command, familyTransport ?? (byte)(v4 ? 0x11 : 0x21), [.. addresses]);
    }

    /// <summary>A version 2 header with the given version/command byte, family/transport byte and payload.</summary>
    public static byte[] Raw(byte versionCommand, byte familyTransport, byte[] payload, int? declaredLength = null)
    {
        var length = declaredLength ?? payload.Length;
        return [.. Signature, versionCommand, familyTransport, (byte)(length >> 8), (byte)length, .. payload];
    }

    /// <summary>One TLV: type, 16-bit big-endian length, value.</summary>
    public static byte[] Tlv(byte type, byte[] value) => [type, (byte)(value.Length >> 8), (byte)value.Length, .. value];
}
