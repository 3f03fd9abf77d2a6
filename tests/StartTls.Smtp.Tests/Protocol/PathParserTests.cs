using System.Text;
using StartTls.Smtp.Protocol;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>RFC 5321 §4.1.2 paths with the RFC 6531 additions, on bytes (strings here are Latin-1: one char, one octet).</summary>
public sealed class PathParserTests
{
    [Theory]
    [InlineData("<a@c.test>", "a", "c.test")]
    [InlineData("<A.B+tag@C.Test>", "A.B+tag", "C.Test")]
    [InlineData("<!#$%&'*+-/=?^_`{|}~@c.test>", "!#$%&'*+-/=?^_`{|}~", "c.test")]
    [InlineData("<a@localhost>", "a", "localhost")]
    [InlineData("<a@c-d.e1.test>", "a", "c-d.e1.test")]
    [InlineData("<a@123.test>", "a", "123.test")]
    [InlineData("<@a.test:user@c.test>", "user", "c.test")] // source route: accepted and ignored (§4.1.1.3)
    [InlineData("<@a.test,@b.test:user@c.test>", "user", "c.test")]
    [InlineData("<@[192.0.2.1],@b.test:user@c.test>", "user", "c.test")]
    [InlineData("<\"john doe\"@c.test>", "\"john doe\"", "c.test")]
    [InlineData("<\"a\\\"b\"@c.test>", "\"a\\\"b\"", "c.test")]
    [InlineData("<\"a\\\\b\"@c.test>", "\"a\\\\b\"", "c.test")]
    [InlineData("<\"a>b\"@c.test>", "\"a>b\"", "c.test")]
    [InlineData("<\"a@b\"@c.test>", "\"a@b\"", "c.test")]
    [InlineData("<a@[192.0.2.1]>", "a", "[192.0.2.1]")]
    [InlineData("<a@[0.0.0.0]>", "a", "[0.0.0.0]")]
    [InlineData("<a@[255.255.255.255]>", "a", "[255.255.255.255]")]
    [InlineData("<a@[IPv6:2001:db8::1]>", "a", "[IPv6:2001:db8::1]")]
    [InlineData("<a@[IPv6:::1]>", "a", "[IPv6:::1]")]
    [InlineData("<a@[ipv6:::ffff:192.0.2.1]>", "a", "[ipv6:::ffff:192.0.2.1]")]
    [InlineData("<a@[x-tag:anything]>", "a", "[x-tag:anything]")] // General-address-literal
    public void Accepts_valid_paths(string path, string localPart, string domain)
    {
        var result = Parse(path, nullOk: false, postmasterOk: false, out var mailbox, out var consumed, out var nonAscii);
        result.Should().Be(PathParseResult.Ok);
        mailbox!.LocalPart.Should().Be(localPart);
        mailbox.Domain.Should().Be(domain);
        consumed.Should().Be(path.Length);
        nonAscii.Should().BeFalse();
    }

    [Theory]
    [InlineData("")]
    [InlineData("<")]
    [InlineData("a@c.test")]
    [InlineData("a@c.test>")]
    [InlineData("<a@c.test")]
    [InlineData(" <a@c.test>")]
    [InlineData("<a>")]
    [InlineData("<a@>")]
    [InlineData("<@c.test>")]
    [InlineData("<a@@c.test>")]
    [InlineData("<a b@c.test>")]
    [InlineData("<a\0b@c.test>")]
    [InlineData("<a\x7F@c.test>")]
    [InlineData("<a,b@c.test>")]
    [InlineData("<.a@c.test>")]
    [InlineData("<a.@c.test>")]
    [InlineData("<a..b@c.test>")]
    [InlineData("<a@c_d.test>")]
    [InlineData("<a@-c.test>")]
    [InlineData("<a@c-.test>")]
    [InlineData("<a@c..test>")]
    [InlineData("<a@.c.test>")]
    [InlineData("<a@c.test.>")]
    [InlineData("<a@c .test>")]
    [InlineData("<a@c.test >")]
    [InlineData("<\"unterminated@c.test>")]
    [InlineData("<\"a\u0001b\"@c.test>")]
    [InlineData("<\"a\\\x01\"@c.test>")]
    [InlineData("<\"\"@c.test>")]
    [InlineData("<\"a\"b@c.test>")]
    [InlineData("<@:user@c.test>")]
    [InlineData("<@a.test,b.test:user@c.test>")]
    [InlineData("<@a..test:user@c.test>")]
    [InlineData("<@a.test:>")]
    [InlineData("<@a.test user@c.test>")]
    [InlineData("<a@[]>")]
    [InlineData("<a@[1.2.3]>")]
    [InlineData("<a@[1.2.3.4.5]>")]
    [InlineData("<a@[256.0.0.1]>")]
    [InlineData("<a@[1.2.3.1000]>")]
    [InlineData("<a@[1..2.3]>")]
    [InlineData("<a@[1.2.3.4>")]
    [InlineData("<a@[1.2.3.4]x>")]
    [InlineData("<a@[IPv6:1.2.3.4]>")]
    [InlineData("<a@[IPv6:gggg::1]>")]
    [InlineData("<a@[IPv6:]>")]
    [InlineData("<a@[x-tag:]>")]
    [InlineData("<a@[:x]>")]
    [InlineData("<a@[a b]>")]
    [InlineData("<a@[a[b]>")]
    [InlineData("<root>")]
    public void Refuses_invalid_paths(string path)
    {
        Parse(path, nullOk: true, postmasterOk: true, out var mailbox, out _, out _).Should().Be(PathParseResult.Syntax);
        mailbox.Should().BeNull();
    }

    [Fact]
    public void The_null_path_is_accepted_only_where_allowed()
    {
        Parse("<> SIZE=1", nullOk: true, postmasterOk: false, out var mailbox, out var consumed, out _).Should().Be(PathParseResult.Ok);
        mailbox.Should().BeNull();
        consumed.Should().Be(2);
        Parse("<>", nullOk: false, postmasterOk: true, out _, out _, out _).Should().Be(PathParseResult.Syntax);
    }

    [Theory]
    [InlineData("<Postmaster>")]
    [InlineData("<postmaster>")]
    [InlineData("<POSTMASTER>")]
    public void Postmaster_without_a_domain_is_accepted_only_where_allowed(string path)
    {
        Parse(path, nullOk: false, postmasterOk: true, out var mailbox, out var consumed, out _).Should().Be(PathParseResult.Ok);
        mailbox!.Address.Should().Be(path[1..^1]);
        mailbox.Domain.Should().BeEmpty();
        consumed.Should().Be(path.Length);
        Parse(path, nullOk: true, postmasterOk: false, out _, out _, out _).Should().Be(PathParseResult.Syntax);
    }

    [Fact]
    public void Postmaster_with_a_domain_is_an_ordinary_mailbox()
    {
        Parse("<Postmaster@s.test>", nullOk: false, postmasterOk: false, out var mailbox, out _, out _).Should().Be(PathParseResult.Ok);
        mailbox!.Address.Should().Be("Postmaster@s.test");
    }

    [Fact]
    public void Consumed_stops_at_the_closing_bracket()
    {
        Parse("<a@c.test> SIZE=100 BODY=8BITMIME", nullOk: false, postmasterOk: false, out _, out var consumed, out _).Should().Be(PathParseResult.Ok);
        consumed.Should().Be("<a@c.test>".Length);
        Parse("<\"a>b\"@c.test> X", nullOk: false, postmasterOk: false, out _, out consumed, out _).Should().Be(PathParseResult.Ok);
        consumed.Should().Be("<\"a>b\"@c.test>".Length);
    }

    [Theory]
    [InlineData("<j\xC3\xB6@c.test>", "jö", "c.test")]
    [InlineData("<a@b\xC3\xBC.test>", "a", "bü.test")]
    [InlineData("<\xE7\x94\xA8\xE6\x88\xB7@\xE4\xBE\x8B\xE5\xAD\x90.test>", "用户", "例子.test")]
    [InlineData("<\"j\xC3\xB6 x\"@c.test>", "\"jö x\"", "c.test")]
    [InlineData("<\xF0\x9F\x98\x80@c.test>", "😀", "c.test")]
    public void Utf8_addresses_are_parsed_and_flagged(string path, string localPart, string domain)
    {
        Parse(path, nullOk: false, postmasterOk: false, out var mailbox, out _, out var nonAscii).Should().Be(PathParseResult.Ok);
        nonAscii.Should().BeTrue();
        mailbox!.LocalPart.Should().Be(localPart);
        mailbox.Domain.Should().Be(domain);
        mailbox.IsInternational.Should().BeTrue();
    }

    [Theory]
    [InlineData("<j\xF6@c.test>")] // Latin-1 ö
    [InlineData("<j\xC3@c.test>")] // truncated sequence
    [InlineData("<j\xC0\xAF@c.test>")] // overlong '/'
    [InlineData("<j\xED\xA0\x80@c.test>")] // UTF-16 surrogate
    [InlineData("<j\xF8\x88\x80\x80\x80@c.test>")] // five-byte form
    [InlineData("<a@b\xFF.test>")]
    [InlineData("<\"j\xF6\"@c.test>")]
    [InlineData("<\x80@c.test>")]
    public void Invalid_utf8_is_reported_as_such(string path)
    {
        Parse(path, nullOk: false, postmasterOk: false, out var mailbox, out _, out _).Should().Be(PathParseResult.InvalidUtf8);
        mailbox.Should().BeNull();
    }

    [Fact]
    public void A_local_part_longer_than_64_octets_is_accepted()
    {
        // RFC 5321 §4.5.3.1 asks servers to avoid length limits where possible; SRS/VERP local parts exceed 64 octets.
        Parse("<" + new string('l', 64) + "@c.test>", false, false, out var mailbox, out _, out _).Should().Be(PathParseResult.Ok);
        mailbox!.LocalPart.Should().HaveLength(64);
        Parse("<" + new string('l', 200) + "@c.test>", false, false, out mailbox, out _, out _).Should().Be(PathParseResult.Ok);
        mailbox!.LocalPart.Should().HaveLength(200);
    }

    [Fact]
    public void A_domain_of_255_octets_is_accepted_and_256_refused()
    {
        // RFC 5321 §4.5.3.1.2: a domain is at most 255 octets; a label at most 63 (RFC 1035).
        var label = new string('d', 63);
        var domain255 = string.Join('.', label, label, label, label); // 4 × 63 + 3 dots
        domain255.Length.Should().Be(255);
        Parse("<a@" + domain255 + ">", false, false, out var mailbox, out _, out _).Should().Be(PathParseResult.Ok);
        mailbox!.Domain.Should().Be(domain255);
        Parse("<a@x" + domain255 + ">", false, false, out _, out _, out _).Should().Be(PathParseResult.Syntax);
        Parse("<a@" + new string('d', 64) + ".test>", false, false, out _, out _, out _).Should().Be(PathParseResult.Syntax);
    }

    private static PathParseResult Parse(string path, bool nullOk, bool postmasterOk, out SmtpMailbox? mailbox, out int consumed, out bool nonAscii)
        => PathParser.TryParse(SequenceBuilder.Bytes(path), nullOk, postmasterOk, out mailbox, out consumed, out nonAscii);
}
