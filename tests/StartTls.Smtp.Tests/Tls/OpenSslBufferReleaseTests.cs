using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// On Linux a TLS session's OpenSSL record buffers are released while empty (SSL_MODE_RELEASE_BUFFERS, set on the
/// handle SslStream holds): the session is marked, and messages larger than one record still go through it intact.
/// </summary>
public sealed class OpenSslBufferReleaseTests
{
    [Fact]
    public async Task A_tls_session_gets_its_buffers_released_and_still_carries_messages_of_many_records()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate());
        var before = OpenSslBufferRelease.ReleasedCount;
        var (raw, tls) = await server.ConnectWithStartTlsAsync();
        await using (raw)
        await using (tls)
        {
            (await tls.EhloAsync()).Should().StartWith("250");
            if (OperatingSystem.IsLinux())
            {
                OpenSslBufferRelease.ReleasedCount.Should().BeGreaterThan(before, "the mode is set right after the handshake");
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
}
