using System.Buffers;
using System.Net;
using System.Text;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Transport;

namespace StartTls.Smtp.Tests.Transport;

/// <summary>The PROXY protocol header parser on raw bytes: every valid form, every malformed one, every split.</summary>
public sealed class ProxyHeaderParserTests
{
    private static readonly IPEndPoint Client4 = new(IPAddress.Parse("192.0.2.10"), 51234);
    private static readonly IPEndPoint Proxy4 = new(IPAddress.Parse("198.51.100.1"), 25);
    private static readonly IPEndPoint Client6 = new(IPAddress.Parse("2001:db8::10"), 40000);
    private static readonly IPEndPoint Proxy6 = new(IPAddress.Parse("2001:db8:1::1"), 587);

    private static (ProxyHeaderStatus Status, ProxyHeader Header, long Consumed) Parse(byte[] bytes)
        => Parse(new ReadOnlySequence<byte>(bytes));

    private static (ProxyHeaderStatus Status, ProxyHeader Header, long Consumed) Parse(ReadOnlySequence<byte> buffer)
    {
        var status = ProxyHeaderParser.TryParse(buffer, out var header, out var end);
        return (status, header, status == ProxyHeaderStatus.Valid ? buffer.Slice(buffer.Start, end).Length : -1);
    }

    private static byte[] Ascii(string text) => Encoding.Latin1.GetBytes(text);

    [Fact]
    public void V1_tcp4_gives_the_client_and_destination()
    {
        var bytes = Ascii("PROXY TCP4 192.0.2.10 198.51.100.1 51234 25\r\nEHLO x\r\n");
        var (status, header, consumed) = Parse(bytes);
        status.Should().Be(ProxyHeaderStatus.Valid);
        header.Version.Should().Be(1);
        header.Source.Should().Be(Client4);
        header.Destination.Should().Be(Proxy4);
        consumed.Should().Be(bytes.Length - "EHLO x\r\n".Length, "what follows the header is SMTP's");
    }

    [Fact]
    public void V1_tcp6_gives_the_client_and_destination()
    {
        var (status, header, _) = Parse(Ascii("PROXY TCP6 2001:db8::10 2001:db8:1::1 40000 587\r\n"));
        status.Should().Be(ProxyHeaderStatus.Valid);
        header.Source.Should().Be(Client6);
        header.Destination.Should().Be(Proxy6);
    }

    [Theory]
    [InlineData("PROXY UNKNOWN\r\n")]
    [InlineData("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n")]
    public void V1_unknown_keeps_the_connection_addresses(string text)
    {
        var (status, header, consumed) = Parse(Ascii(text));
        status.Should().Be(ProxyHeaderStatus.Valid);
        header.IsLocal.Should().BeTrue();
        consumed.Should().Be(text.Length);
    }

    [Fact]
    public void V1_of_the_maximum_length_is_accepted_and_one_byte_more_is_not()
    {
        // The specification's worst case: 107 bytes with CRLF (UNKNOWN with two full IPv6 addresses).
        var longest = "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
        longest.Length.Should().Be(ProxyHeaderParser.MaxV1Length);
        Parse(Ascii(longest)).Status.Should().Be(ProxyHeaderStatus.Valid);
        Parse(Ascii(longest.Replace("UNKNOWN ", "UNKNOWN  ", StringComparison.Ordinal))).Status.Should().Be(ProxyHeaderStatus.Invalid, "108 bytes");
        Parse(Ascii(longest.Replace("UNKNOWN", "TCP6", StringComparison.Ordinal))).Status.Should().Be(ProxyHeaderStatus.Valid, "the longest TCP6 header");

        var unknown = "PROXY UNKNOWN " + new string('x', 200) + "\r\n";
        Parse(Ascii(unknown)).Status.Should().Be(ProxyHeaderStatus.Invalid, "no LF within 107 bytes");
        Parse(Ascii(unknown[..ProxyHeaderParser.MaxV1Length])).Status.Should().Be(ProxyHeaderStatus.Invalid, "107 bytes without LF is already too long");
        Parse(Ascii(unknown[..(ProxyHeaderParser.MaxV1Length - 1)])).Status.Should().Be(ProxyHeaderStatus.Incomplete);
    }

    [Theory]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 51234 25\n", "LF without CR")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 51234\r\n", "a missing port")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 51234 25 9\r\n", "an extra field")]
    [InlineData("PROXY TCP4 192.0.2.10  198.51.100.1 51234 25\r\n", "two spaces")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 51234 25 \r\n", "a trailing space")]
    [InlineData("PROXY TCP4 192.0.2 198.51.100.1 51234 25\r\n", "three parts")]
    [InlineData("PROXY TCP4 192.0.2.256 198.51.100.1 51234 25\r\n", "a part over 255")]
    [InlineData("PROXY TCP4 1 198.51.100.1 51234 25\r\n", "a number, not a dotted quad")]
    [InlineData("PROXY TCP4 2001:db8::10 198.51.100.1 51234 25\r\n", "IPv6 in TCP4")]
    [InlineData("PROXY TCP6 192.0.2.10 2001:db8:1::1 51234 25\r\n", "IPv4 in TCP6")]
    [InlineData("PROXY TCP6 fe80::1%eth0 2001:db8:1::1 51234 25\r\n", "an IPv6 zone")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 65536 25\r\n", "a port over 65535")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 -1 25\r\n", "a negative port")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 0x50 25\r\n", "a hex port")]
    [InlineData("PROXY UDP4 192.0.2.10 198.51.100.1 51234 25\r\n", "an unknown protocol")]
    [InlineData("PROXY tcp4 192.0.2.10 198.51.100.1 51234 25\r\n", "a lower-case protocol")]
    [InlineData("PROXY UNKNOWNX\r\n", "UNKNOWN run on")]
    [InlineData("PROXY \r\n", "no protocol")]
    [InlineData("proxy TCP4 192.0.2.10 198.51.100.1 51234 25\r\n", "a lower-case PROXY")]
    [InlineData("EHLO client.test\r\n", "SMTP, no header")]
    [InlineData("\x16\x03\x01\x02\x00", "a TLS ClientHello, no header")]
    public void Malformed_v1_is_invalid(string text, string because)
        => Parse(Ascii(text)).Status.Should().Be(ProxyHeaderStatus.Invalid, because);

    [Theory]
    [InlineData("")]
    [InlineData("P")]
    [InlineData("PROX")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 51234 25")]
    [InlineData("PROXY TCP4 192.0.2.10 198.51.100.1 51234 25\r")]
    public void A_v1_beginning_is_incomplete(string text)
        => Parse(Ascii(text)).Status.Should().Be(ProxyHeaderStatus.Incomplete);

    [Fact]
    public void V2_inet_and_inet6_give_the_client_and_destination()
    {
        var v4 = ProxyHeaderBytes.V2(Client4, Proxy4);
        var (status, header, consumed) = Parse([.. v4, .. "EHLO"u8.ToArray()]);
        status.Should().Be(ProxyHeaderStatus.Valid);
        header.Version.Should().Be(2);
        header.Source.Should().Be(Client4);
        header.Destination.Should().Be(Proxy4);
        consumed.Should().Be(v4.Length);

        (status, header, _) = Parse(ProxyHeaderBytes.V2(Client6, Proxy6));
        status.Should().Be(ProxyHeaderStatus.Valid);
        header.Source.Should().Be(Client6);
        header.Destination.Should().Be(Proxy6);
    }

    [Fact]
    public void V2_tlvs_are_skipped_within_their_bounds()
    {
        byte[] tlvs = [.. ProxyHeaderBytes.Tlv(0x02, "mx.example.com"u8.ToArray()), .. ProxyHeaderBytes.Tlv(0x04, new byte[10]),
            .. ProxyHeaderBytes.Tlv(0x20, [0x07, 0, 0, 0, 0, .. ProxyHeaderBytes.Tlv(0x21, "TLSv1.3"u8.ToArray())]), .. ProxyHeaderBytes.Tlv(0x05, [])];
        var bytes = ProxyHeaderBytes.V2(Client4, Proxy4, tlvs);
        var (status, header, consumed) = Parse(bytes);
        status.Should().Be(ProxyHeaderStatus.Valid);
        header.Source.Should().Be(Client4);
        consumed.Should().Be(bytes.Length);
    }

    [Theory]
    [InlineData(0x20, 0x00, 0, "LOCAL, UNSPEC: a health check")]
    [InlineData(0x20, 0x11, 12, "LOCAL with an INET block: the block is discarded")]
    [InlineData(0x21, 0x00, 0, "PROXY, UNSPEC")]
    [InlineData(0x21, 0x31, 216, "PROXY, UNIX stream")]
    [InlineData(0x21, 0x12, 12, "PROXY, INET DGRAM")]
    [InlineData(0x21, 0x10, 12, "PROXY, INET, UNSPEC transport")]
    public void V2_without_a_tcp_client_keeps_the_connection_addresses(byte command, byte family, int length, string because)
    {
        var bytes = ProxyHeaderBytes.Raw(command, family, new byte[length]);
        var (status, header, consumed) = Parse(bytes);
        status.Should().Be(ProxyHeaderStatus.Valid, because);
        header.IsLocal.Should().BeTrue(because);
        consumed.Should().Be(bytes.Length);
    }

    public static TheoryData<byte[], string> MalformedV2 => new()
    {
        { ProxyHeaderBytes.Raw(0x11, 0x11, new byte[12]), "version 1 in the binary form" },
        { ProxyHeaderBytes.Raw(0x31, 0x11, new byte[12]), "version 3" },
        { ProxyHeaderBytes.Raw(0x22, 0x11, new byte[12]), "command 2" },
        { ProxyHeaderBytes.Raw(0x21, 0x41, new byte[12]), "family 4" },
        { ProxyHeaderBytes.Raw(0x21, 0x13, new byte[12]), "transport 3" },
        { ProxyHeaderBytes.Raw(0x21, 0x11, new byte[11]), "an INET block of 11 bytes" },
        { ProxyHeaderBytes.Raw(0x21, 0x21, new byte[35]), "an INET6 block of 35 bytes" },
        { ProxyHeaderBytes.Raw(0x21, 0x11, new byte[ProxyHeaderParser.MaxV2PayloadLength + 1]), "a payload over the bound" },
        { ProxyHeaderBytes.Raw(0x21, 0x11, [], declaredLength: 0xFFFF), "a length of 65535" },
        { ProxyHeaderBytes.V2(Client4, Proxy4, [0x02]), "a TLV of one byte" },
        { ProxyHeaderBytes.V2(Client4, Proxy4, [0x02, 0x00]), "a TLV without its length's second byte" },
        { ProxyHeaderBytes.V2(Client4, Proxy4, [0x02, 0x00, 0x05, 0x61]), "a TLV longer than what is left" },
        { [.. ProxyHeaderBytes.Signature[..11], 0x0D, 0x21, 0x11, 0x00, 0x0C], "a wrong signature byte" },
        { [0x0D, 0x0A, 0x45, 0x48, 0x4C, 0x4F], "CRLF then SMTP" },
    };

    [Theory]
    [MemberData(nameof(MalformedV2))]
    public void Malformed_v2_is_invalid(byte[] bytes, string because)
        => Parse(bytes).Status.Should().Be(ProxyHeaderStatus.Invalid, because);

    [Fact]
    public void Every_v2_prefix_is_incomplete_and_the_whole_is_valid()
    {
        var bytes = ProxyHeaderBytes.V2(Client6, Proxy6, ProxyHeaderBytes.Tlv(0x02, "mx.example.com"u8.ToArray()));
        for (var length = 0; length < bytes.Length; length++)
        {
            Parse(bytes[..length]).Status.Should().Be(ProxyHeaderStatus.Incomplete, $"{length} of {bytes.Length} bytes");
        }

        Parse(bytes).Status.Should().Be(ProxyHeaderStatus.Valid);
    }

    public static TheoryData<string> SplitCases => new()
    {
        "v1-tcp4",
        "v1-tcp6",
        "v1-unknown",
        "v2-inet",
        "v2-inet6-tlvs",
        "v2-local",
    };

    private static byte[] Case(string name) => name switch
    {
        "v1-tcp4" => ProxyHeaderBytes.V1(Client4, Proxy4),
        "v1-tcp6" => ProxyHeaderBytes.V1(Client6, Proxy6),
        "v1-unknown" => Ascii("PROXY UNKNOWN\r\n"),
        "v2-inet" => ProxyHeaderBytes.V2(Client4, Proxy4),
        "v2-inet6-tlvs" => ProxyHeaderBytes.V2(Client6, Proxy6, [.. ProxyHeaderBytes.Tlv(0x01, "smtp"u8.ToArray()), .. ProxyHeaderBytes.Tlv(0x04, new byte[3])]),
        _ => ProxyHeaderBytes.Raw(0x20, 0x00, []),
    };

    [Theory]
    [MemberData(nameof(SplitCases))]
    public void A_header_split_at_every_byte_boundary_parses_the_same(string name)
    {
        var header = Case(name);
        byte[] bytes = [.. header, .. "EHLO client.test\r\n"u8.ToArray()];
        var whole = Parse(bytes);
        whole.Status.Should().Be(ProxyHeaderStatus.Valid);
        whole.Consumed.Should().Be(header.Length);

        for (var first = 0; first <= bytes.Length; first++)
        {
            // Two pieces, and three pieces with a one-byte segment in the middle.
            var split = Parse(SequenceBuilder.Split(bytes, first));
            split.Should().Be(whole, $"split at {first}");
            if (first + 1 <= bytes.Length)
            {
                Parse(SequenceBuilder.Split(bytes, first, first + 1)).Should().Be(whole, $"split at {first} and {first + 1}");
            }
        }

        // One byte per segment.
        Parse(SequenceBuilder.Create([.. bytes.Select(static b => new[] { b })])).Should().Be(whole, "one byte per segment");
    }

    [Fact]
    public void A_header_fed_one_byte_more_at_a_time_is_incomplete_until_its_last_byte()
    {
        foreach (var name in new[] { "v1-tcp4", "v1-unknown", "v2-inet", "v2-inet6-tlvs", "v2-local" })
        {
            var bytes = Case(name);
            for (var length = 0; length < bytes.Length; length++)
            {
                Parse(SequenceBuilder.Create([.. bytes[..length].Select(static b => new[] { b })])).Status
                    .Should().Be(ProxyHeaderStatus.Incomplete, $"{name}: {length} of {bytes.Length} bytes");
            }
        }
    }
}
