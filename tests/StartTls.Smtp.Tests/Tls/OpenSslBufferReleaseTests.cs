using Microsoft.Extensions.Configuration;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// <see cref="SmtpTlsOptions.ReleaseIdleBuffers"/> (off by default): on Linux a TLS session's OpenSSL record buffers
/// are then released while empty (SSL_MODE_RELEASE_BUFFERS, set on the handle SslStream holds), and messages larger
/// than one record still go through it intact. No other test class turns the option on, so the process-wide count
/// moves only here (the tests of one class run one at a time).
/// </summary>
public sealed class OpenSslBufferReleaseTests
{
    [Fact]
    public async Task With_the_option_a_tls_session_gets_its_buffers_released_and_still_carries_messages_of_many_records()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(o => o.Tls.ReleaseIdleBuffers = true));
        var before = OpenSslBufferRelease.ReleasedCount;
        var (raw, tls) = await server.ConnectWithStartTlsAsync();
        await using (raw)
        await using (tls)
        {
            (await tls.EhloAsync()).Should().StartWith("250");
            if (OperatingSystem.IsLinux())
            {
                OpenSslBufferRelease.ReleasedCount.Should().Be(before + 1, "the mode is set right after the handshake");
            }

            // 100 KB: several 16 KB records each way through buffers that are freed and taken again between records.
            var body = string.Concat(Enumerable.Repeat(new string('x', 998) + "\r\n", 100));
            for (var i = 0; i < 3; i++)
            {
                (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
                (await tls.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
                (await tls.CommandAsync("DATA")).Should().StartWith("354");
                (await tls.CommandAsync("Subject: " + i + "\r\n\r\n" + body + ".")).Should().StartWith("250 2.0.0");
            }

            (await tls.CommandAsync("NOOP")).Should().StartWith("250");
        }

        server.Messages.Count.Should().Be(3);
    }

    [Fact]
    public async Task By_default_the_buffers_are_left_alone()
    {
        new SmtpTlsOptions().ReleaseIdleBuffers.Should().BeFalse();
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate());
        var before = OpenSslBufferRelease.ReleasedCount;
        var (raw, tls) = await server.ConnectWithStartTlsAsync();
        await using (raw)
        await using (tls)
        {
            (await tls.EhloAsync()).Should().StartWith("250");
            (await tls.CommandAsync("NOOP")).Should().StartWith("250");
        }

        OpenSslBufferRelease.ReleasedCount.Should().Be(before, "the option is off");
    }

    [Fact]
    public void The_option_binds_from_configuration()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Smtp:Tls:ReleaseIdleBuffers"] = "true" })
            .Build();
        var options = new SmtpServerOptions();
        configuration.GetSection("Smtp").Bind(options);
        options.Tls.ReleaseIdleBuffers.Should().BeTrue();
    }
}
