using System.Net;
using StartTls.Smtp.Transport;

namespace StartTls.Smtp.Tests.Transport;

/// <summary>The CIDR matcher behind the PROXY protocol's and XCLIENT's trusted sources.</summary>
public sealed class TrustedNetworksTests
{
    [Theory]
    [InlineData("10.0.0.0/8", "10.255.1.2", true)]
    [InlineData("10.0.0.0/8", "11.0.0.1", false)]
    [InlineData("10.0.0.0/8", "::ffff:10.1.2.3", true)]
    [InlineData("192.0.2.7", "192.0.2.7", true)]
    [InlineData("192.0.2.7", "192.0.2.8", false)]
    [InlineData("192.0.2.7/32", "::ffff:192.0.2.7", true)]
    [InlineData("0.0.0.0/0", "203.0.113.9", true)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::/32", "2001:db9::1", false)]
    [InlineData("::1", "::1", true)]
    [InlineData("::1", "127.0.0.1", false)]
    [InlineData("::ffff:10.0.0.0/104", "10.9.9.9", true)]
    [InlineData("::ffff:10.0.0.0/104", "::ffff:10.9.9.9", true)]
    [InlineData("10.1.2.3/16", "10.1.200.1", true)]
    [InlineData("10.0.0.0/8", "2001:db8::1", false)]
    public void Contains_matches_by_prefix(string network, string address, bool expected)
    {
        TrustedNetworks.TryParse([network], out var networks, out _).Should().BeTrue();
        networks!.Contains(IPAddress.Parse(address)).Should().Be(expected);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("10.0.0.0/33")]
    [InlineData("2001:db8::/129")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.0/+8")]
    [InlineData("10.1/16")]
    [InlineData("10")]
    [InlineData("example.com")]
    [InlineData("fe80::1%eth0")]
    [InlineData("10.0.0.0/8/8")]
    public void Bad_entries_are_named(string entry)
    {
        TrustedNetworks.TryParse(["127.0.0.1", entry], out _, out var invalid).Should().BeFalse();
        invalid.Should().Be(entry);
    }

    [Fact]
    public void An_empty_list_matches_nothing()
    {
        TrustedNetworks.TryParse([], out var networks, out _).Should().BeTrue();
        networks!.IsEmpty.Should().BeTrue();
        networks.Contains(IPAddress.Loopback).Should().BeFalse();
        networks.Contains(null).Should().BeFalse();
    }
}
