using System.Net;

namespace StartTls.Smtp.MailCatcher.Tests;

/// <summary>The command line: the documented defaults, and loopback only.</summary>
public sealed class CatcherOptionsTests
{
    [Fact]
    public void The_defaults_are_http_8025_and_smtp_2525_on_127_0_0_1_keeping_1000()
    {
        CatcherOptions.TryParse([], out var options, out var error).Should().BeTrue();
        error.Should().BeNull();
        options.Http.Should().Be(new IPEndPoint(IPAddress.Loopback, 8025));
        options.Smtp.Should().Be(new IPEndPoint(IPAddress.Loopback, 2525));
        options.Keep.Should().Be(1000);
        options.UserName.Should().BeNull();
        options.DatabasePath.Should().Be("mailcatcher.db");
    }

    [Fact]
    public void Flags_are_parsed_with_a_space_or_an_equals_sign()
    {
        CatcherOptions.TryParse(["--http", "localhost:9000", "--smtp=[::1]:2526", "--user", "me:pa:ss", "--db", "/tmp/x.db", "--keep=5"], out var options, out var error)
            .Should().BeTrue(error);
        options.Http.Should().Be(new IPEndPoint(IPAddress.Loopback, 9000));
        options.Smtp.Should().Be(new IPEndPoint(IPAddress.IPv6Loopback, 2526));
        (options.UserName, options.Password).Should().Be(("me", "pa:ss"));
        options.DatabasePath.Should().Be("/tmp/x.db");
        options.Keep.Should().Be(5);
        options.CertificateDirectory.Should().Be("/tmp/.dev-certs");
    }

    [Theory]
    [InlineData("--http", "0.0.0.0:8025", "not a loopback address")]
    [InlineData("--smtp", "192.168.1.10:25", "not a loopback address")]
    [InlineData("--smtp", "[::]:25", "not a loopback address")]
    [InlineData("--http", "example.com:80", "not an IPv4 address")]
    [InlineData("--http", "127.0.0.1", "HOST:PORT")]
    [InlineData("--http", "127.0.0.1:70000", "HOST:PORT")]
    [InlineData("--keep", "0", "at least 1")]
    [InlineData("--user", "nopassword", "NAME:PASSWORD")]
    [InlineData("--bogus", "1", "unknown option")]
    public void Bad_values_are_errors(string flag, string value, string expected)
    {
        CatcherOptions.TryParse([flag, value], out _, out var error).Should().BeFalse();
        error.Should().Contain(expected);
    }

    [Fact]
    public void Help_is_not_an_error()
    {
        CatcherOptions.TryParse(["--keep", "3", "--help"], out _, out var error).Should().BeFalse();
        error.Should().BeNull();
        CatcherOptions.Usage.Should().Contain("--http HOST:PORT").And.Contain("--smtp HOST:PORT").And.Contain("--keep N");
    }
}
