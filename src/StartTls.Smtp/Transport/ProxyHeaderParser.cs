using System.Buffers;
using System.Net;

namespace StartTls.Smtp.Transport;

/// <summary>
/// Parses the PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) at the start of a connection,
/// on bytes, bounded, from a sequence split anywhere. Nothing is allocated but the result's endpoints.
/// </summary>
/// <remarks>
/// Version 1: <c>PROXY TCP4|TCP6 src dst sport dport\r\n</c> or <c>PROXY UNKNOWN …\r\n</c>, at most 107 bytes.
/// Version 2: the 12-byte signature, version 2, command LOCAL or PROXY, a length of at most
/// <see cref="MaxV2PayloadLength"/>. PROXY over INET or INET6 with STREAM gives the client's addresses; LOCAL, UNSPEC,
/// UNIX and DGRAM keep the connection's own (the specification's advice). TLVs are walked for their bounds and
/// otherwise ignored (no ALPN, authority, SSL or CRC32C information is used). Anything else is <see cref="ProxyHeaderStatus.Invalid"/>.
/// </remarks>
internal static class ProxyHeaderParser
{
    /// <summary>The longest version 1 header, CRLF included (the specification's own bound).</summary>
    public const int MaxV1Length = 107;

    /// <summary>The most bytes accepted after the 16-byte fixed part of a version 2 header (addresses and TLVs).</summary>
    public const int MaxV2PayloadLength = 1024;

    private const int V2FixedLength = 16;

    /// <summary>The version 2 signature: <c>\r\n\r\n\0\r\nQUIT\n</c>.</summary>
    public static ReadOnlySpan<byte> V2Signature => [0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A];

    private static ReadOnlySpan<byte> V1Prefix => "PROXY "u8;

    /// <summary>Parses the header at the start of <paramref name="buffer"/>.</summary>
    /// <param name="buffer">The connection's first bytes.</param>
    /// <param name="header">The header, when <see cref="ProxyHeaderStatus.Valid"/>.</param>
    /// <param name="end">Where the header ends (what follows belongs to SMTP or TLS), when valid.</param>
    public static ProxyHeaderStatus TryParse(in ReadOnlySequence<byte> buffer, out ProxyHeader header, out SequencePosition end)
    {
        header = default;
        end = buffer.Start;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryPeek(out var first))
        {
            return ProxyHeaderStatus.Incomplete;
        }

        return first == V1Prefix[0] ? ParseV1(ref reader, out header, out end)
            : first == V2Signature[0] ? ParseV2(ref reader, out header, out end)
            : ProxyHeaderStatus.Invalid;
    }

    /// <summary>Matches <paramref name="expected"/> at the reader, or as much of it as has arrived, and moves past it.</summary>
    private static ProxyHeaderStatus Expect(ref SequenceReader<byte> reader, ReadOnlySpan<byte> expected)
    {
        Span<byte> head = stackalloc byte[16];
        var count = (int)Math.Min(reader.Remaining, expected.Length);
        reader.TryCopyTo(head[..count]);
        if (!head[..count].SequenceEqual(expected[..count]))
        {
            return ProxyHeaderStatus.Invalid;
        }

        if (count < expected.Length)
        {
            return ProxyHeaderStatus.Incomplete;
        }

        reader.Advance(count);
        return ProxyHeaderStatus.Valid;
    }

    private static ProxyHeaderStatus ParseV1(ref SequenceReader<byte> reader, out ProxyHeader header, out SequencePosition end)
    {
        header = default;
        end = reader.Position;
        var prefix = Expect(ref reader, V1Prefix);
        if (prefix != ProxyHeaderStatus.Valid)
        {
            return prefix;
        }

        // The rest of the line, CRLF included, within the 107-byte bound: the LF must come before it.
        Span<byte> line = stackalloc byte[MaxV1Length - 6];
        var available = (int)Math.Min(reader.Remaining, line.Length);
        reader.TryCopyTo(line[..available]);
        var lf = line[..available].IndexOf((byte)'\n');
        if (lf < 0)
        {
            return available == line.Length ? ProxyHeaderStatus.Invalid : ProxyHeaderStatus.Incomplete;
        }

        if (lf == 0 || line[lf - 1] != '\r' || !TryParseV1Fields(line[..(lf - 1)], out header))
        {
            return ProxyHeaderStatus.Invalid;
        }

        reader.Advance(lf + 1);
        end = reader.Position;
        return ProxyHeaderStatus.Valid;
    }

    /// <summary>Parses what follows <c>PROXY </c> up to the CRLF.</summary>
    private static bool TryParseV1Fields(ReadOnlySpan<byte> fields, out ProxyHeader header)
    {
        header = default;
        if (fields.StartsWith("UNKNOWN"u8))
        {
            // The rest of the line, if any, is to be ignored (the specification).
            header = new ProxyHeader(null, null, 1);
            return fields.Length == 7 || fields[7] == ' ';
        }

        bool v6;
        if (fields.StartsWith("TCP4 "u8))
        {
            v6 = false;
        }
        else if (fields.StartsWith("TCP6 "u8))
        {
            v6 = true;
        }
        else
        {
            return false;
        }

        fields = fields[5..];
        if (!TryNextField(ref fields, out var sourceText) || !TryNextField(ref fields, out var destinationText)
            || !TryNextField(ref fields, out var sourcePortText) || !TryNextField(ref fields, out var destinationPortText)
            || !fields.IsEmpty)
        {
            return false;
        }

        if (!TryParseAddress(sourceText, v6, out var source) || !TryParseAddress(destinationText, v6, out var destination)
            || !TryParsePort(sourcePortText, out var sourcePort) || !TryParsePort(destinationPortText, out var destinationPort))
        {
            return false;
        }

        header = new ProxyHeader(new IPEndPoint(source, sourcePort), new IPEndPoint(destination, destinationPort), 1);
        return true;
    }

    /// <summary>Takes the next non-empty field up to a single space (or the end) off <paramref name="rest"/>.</summary>
    private static bool TryNextField(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> field)
    {
        var space = rest.IndexOf((byte)' ');
        if (space < 0)
        {
            field = rest;
            rest = [];
        }
        else
        {
            field = rest[..space];
            rest = rest[(space + 1)..];
            if (rest.IsEmpty)
            {
                // A trailing space: not the specification's single-space separated form.
                return false;
            }
        }

        return !field.IsEmpty;
    }

    private static bool TryParseAddress(ReadOnlySpan<byte> text, bool v6, out IPAddress address)
        => v6 ? TryParseIPv6(text, out address) : TryParseIPv4(text, out address);

    /// <summary>IPv6 text: hex digits, colons and (for an embedded IPv4 tail) dots; no zone, no brackets.</summary>
    internal static bool TryParseIPv6(ReadOnlySpan<byte> text, out IPAddress address)
    {
        address = IPAddress.None;
        Span<char> chars = stackalloc char[45];
        if (text.IsEmpty || text.Length > chars.Length)
        {
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var b = text[i];
            if (!(char.IsAsciiHexDigit((char)b) || b is (byte)':' or (byte)'.'))
            {
                return false;
            }

            chars[i] = (char)b;
        }

        if (!IPAddress.TryParse(chars[..text.Length], out var parsed) || parsed.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            return false;
        }

        address = parsed;
        return true;
    }

    /// <summary>A strict dotted quad: four decimal parts of one to three digits, each at most 255.</summary>
    internal static bool TryParseIPv4(ReadOnlySpan<byte> text, out IPAddress address)
    {
        address = IPAddress.None;
        Span<byte> bytes = stackalloc byte[4];
        for (var part = 0; part < 4; part++)
        {
            var dot = text.IndexOf((byte)'.');
            var digits = part < 3 ? (dot < 0 ? [] : text[..dot]) : text;
            if (part == 3 && dot >= 0)
            {
                return false;
            }

            if (digits.IsEmpty || digits.Length > 3 || !TryParseDecimal(digits, out var value) || value > 255)
            {
                return false;
            }

            bytes[part] = (byte)value;
            text = part < 3 ? text[(dot + 1)..] : [];
        }

        address = new IPAddress(bytes);
        return true;
    }

    private static bool TryParsePort(ReadOnlySpan<byte> text, out int port)
        => TryParseDecimal(text, out port) && text.Length <= 5 && port <= 65535;

    private static bool TryParseDecimal(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        if (digits.IsEmpty || digits.Length > 5)
        {
            return false;
        }

        foreach (var b in digits)
        {
            if (!char.IsAsciiDigit((char)b))
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        return true;
    }

    private static ProxyHeaderStatus ParseV2(ref SequenceReader<byte> reader, out ProxyHeader header, out SequencePosition end)
    {
        header = default;
        end = reader.Position;
        var signature = Expect(ref reader, V2Signature);
        if (signature != ProxyHeaderStatus.Valid)
        {
            return signature;
        }

        if (!reader.TryRead(out var versionCommand) || !reader.TryRead(out var familyTransport) || !reader.TryReadBigEndian(out short rawLength))
        {
            return ProxyHeaderStatus.Incomplete;
        }

        var command = versionCommand & 0x0F;
        var family = familyTransport >> 4;
        var transport = familyTransport & 0x0F;
        var length = (ushort)rawLength;
        if (versionCommand >> 4 != 2 || command > 1 || family > 3 || transport > 2 || length > MaxV2PayloadLength)
        {
            return ProxyHeaderStatus.Invalid;
        }

        if (reader.Remaining < length)
        {
            return ProxyHeaderStatus.Incomplete;
        }

        var payload = new SequenceReader<byte>(reader.Sequence.Slice(reader.Position, length));
        reader.Advance(length);

        // Only PROXY over TCP (INET or INET6, STREAM) carries addresses to use; LOCAL (health checks), UNSPEC, UNIX
        // and DGRAM keep the connection's own endpoints, and their block is discarded as the specification says.
        var addressLength = family switch { 1 => 12, 2 => 36, _ => 0 };
        if (command == 0 || addressLength == 0 || transport != 1)
        {
            header = new ProxyHeader(null, null, 2);
            end = reader.Position;
            return ProxyHeaderStatus.Valid;
        }

        if (length < addressLength)
        {
            return ProxyHeaderStatus.Invalid;
        }

        var size = addressLength == 12 ? 4 : 16;
        Span<byte> bytes = stackalloc byte[16];
        payload.TryCopyTo(bytes[..size]);
        payload.Advance(size);
        var source = new IPAddress(bytes[..size]);
        payload.TryCopyTo(bytes[..size]);
        payload.Advance(size);
        var destination = new IPAddress(bytes[..size]);
        payload.TryReadBigEndian(out short sourcePort);
        payload.TryReadBigEndian(out short destinationPort);

        // TLVs: type (1), length (2, big-endian), value; each must fit in what is left.
        while (!payload.End)
        {
            if (!payload.TryRead(out _) || !payload.TryReadBigEndian(out short tlvLength) || payload.Remaining < (ushort)tlvLength)
            {
                return ProxyHeaderStatus.Invalid;
            }

            payload.Advance((ushort)tlvLength);
        }

        header = new ProxyHeader(new IPEndPoint(source, (ushort)sourcePort), new IPEndPoint(destination, (ushort)destinationPort), 2);
        end = reader.Position;
        return ProxyHeaderStatus.Valid;
    }
}
