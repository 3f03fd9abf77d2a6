using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Tests.Tls;

public sealed class StartTlsSmokeTests
{
    private static Action<SmtpServerOptions> WithCertificate(Action<SmtpServerOptions>? more = null) => o =>
    {
        o.Tls.CertificateSelector = new SniCertificateSelector(new FixedCertificate(TestCertificates.IssueServer("mx.test")));
        more?.Invoke(o);
    };

    [Fact]
    public async Task Starttls_then_session_starts_again_inside_tls()
    {
        await using var server = await TestServer.StartAsync(WithCertificate());
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().Contain("250-STARTTLS");
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
        (await client.CommandAsync("RSET")).Should().StartWith("250");
        (await client.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");

        await using var ssl = new SslStream(new NetworkStream(client.Socket, ownsSocket: false), false,
            (_, cert, _, _) => TestCertificates.ValidateAgainstCa(cert, "mx.test"));
        await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "mx.test", EnabledSslProtocols = SslProtocols.Tls13 | SslProtocols.Tls12 });
        var reader = new StreamReader(ssl, Encoding.ASCII);
        async Task<string> Command(string line)
        {
            await ssl.WriteAsync(Encoding.ASCII.GetBytes(line + "\r\n"));
            var sb = new StringBuilder();
            while (true)
            {
                var l = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)) ?? throw new EndOfStreamException();
                sb.Append(l).Append('\n');
                if (l.Length < 4 || l[3] != '-')
                {
                    return sb.ToString();
                }
            }
        }

        (await Command("MAIL FROM:<a@c.test>")).Should().StartWith("503 5.5.1");
        var ehlo = await Command("EHLO post.test");
        ehlo.Should().StartWith("250-mx.test").And.NotContain("STARTTLS");
        (await Command("STARTTLS")).Should().StartWith("503 5.5.1");
        (await Command("MAIL FROM:<a@c.test>")).Should().StartWith("250 2.1.0");
        (await Command("RCPT TO:<b@s.test>")).Should().StartWith("250 2.1.5");
        (await Command("DATA")).Should().StartWith("354");
        (await Command("Subject: hi\r\n\r\nbody\r\n.")).Should().StartWith("250 2.0.0");
        var stored = server.Messages.Messages.Should().ContainSingle().Subject;
        stored.HeloName.Should().Be("post.test");
    }

    [Fact]
    public async Task Bytes_pipelined_after_starttls_get_554_and_no_220()
    {
        await using var server = await TestServer.StartAsync(WithCertificate());
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("STARTTLS\r\nRSET\r\n");
        (await client.ReadReplyAsync()).Should().StartWith("554 5.5.0");
        (await client.IsClosedAsync()).Should().BeTrue();
    }

    [Fact]
    public async Task Plaintext_after_the_220_closes_without_a_reply()
    {
        await using var server = await TestServer.StartAsync(WithCertificate());
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        (await client.CommandAsync("STARTTLS")).Should().StartWith("220");
        await client.SendAsync("NOOP\r\n");
        (await client.ReadToEndAsync()).Should().BeEmpty();
    }
}
