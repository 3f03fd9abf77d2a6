using System.Collections.Concurrent;
using System.Text;
using StartTls.Smtp.Gateway.Tests.Infrastructure;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Gateway.Tests;

/// <summary>Real-peer tests with a private Postfix: as the gateway's upstream, and as a client delivering into our server.</summary>
public sealed class PostfixTests
{
    [SkippableFact]
    public async Task The_gateway_relays_into_Postfix_and_Postfixs_refusal_at_RCPT_comes_back_to_the_client()
    {
        await using var postfix = await PostfixInstance.StartAsync(["b"]);
        await using var gateway = await TestGateway.StartAsync(postfix.Port, UpstreamTlsMode.Opportunistic);
        await using var client = await gateway.ConnectAsync();

        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250 2.1.5");
        (await client.CommandAsync("RCPT TO:<nobody@example.com>")).Should().StartWith("550 5.1.1").And.Contain("User unknown");
        (await client.CommandAsync("RCPT TO:<c@elsewhere.test>")).Should().StartWith("550 5.7.1");
        (await client.CommandAsync("DATA")).Should().StartWith("354");
        await client.SendAsync(Encoding.ASCII.GetBytes("Subject: via the gateway\r\n\r\nhello Postfix\r\n.\r\n"));
        (await client.ReadReplyAsync()).Should().StartWith("250 2.0.0").And.Contain("queued as");

        await postfix.WaitForLogAsync("status=sent (delivered to maildir)");
        var delivered = postfix.Delivered("b").Should().ContainSingle().Subject;
        var content = await File.ReadAllTextAsync(delivered);
        content.Should().Contain("by gw.test with ESMTP").And.Contain("Subject: via the gateway").And.Contain("hello Postfix");
    }

    [SkippableFact]
    public async Task The_gateway_answers_451_when_Postfix_is_down_and_nothing_is_queued()
    {
        int port;
        await using (var postfix = await PostfixInstance.StartAsync(["b"]))
        {
            port = postfix.Port;
        }

        await using var gateway = await TestGateway.StartAsync(port);
        await using var client = await gateway.ConnectAsync();
        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("451 4.4.1");
    }

    [SkippableFact]
    public async Task Postfixs_smtp_client_delivers_into_our_server_over_STARTTLS_with_DSN_parameters()
    {
        var version = await PostfixInstance.VersionAsync();
        var certificate = TestCertificates.IssueServer("localhost", "127.0.0.1");
        var (certificatePath, keyPath) = TestCertificates.WritePem(certificate, Path.Combine(Path.GetTempPath(), "pf-in-" + Guid.NewGuid().ToString("N")), "mx");
        var store = new SessionRecordingStore();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Tls.CertificatePath = certificatePath;
            o.Tls.KeyPath = keyPath;
        }, store);
        await using var postfix = await PostfixInstance.StartAsync([], relayPort: server.Port);

        await postfix.SendmailAsync(["-N", "success,failure", "-V", "envid42", "-f", "sender@postfix.test", "rcpt@remote.test"],
            "Subject: from Postfix\n\nrelayed by Postfix " + version + "\n");

        var stored = await store.Messages.WaitForMessageAsync(new CancellationTokenSource(TimeSpan.FromSeconds(60)).Token);
        stored.Envelope.From!.Address.Should().Be("sender@postfix.test");
        stored.Envelope.DsnEnvelopeId.Should().Be("envid42");
        var recipient = stored.Envelope.Recipients.Should().ContainSingle().Subject;
        recipient.Mailbox.Address.Should().Be("rcpt@remote.test");
        recipient.DsnNotify.Should().Be(DsnNotify.Success | DsnNotify.Failure);
        store.Secure.Should().ContainSingle().Which.Should().BeTrue("Postfix (smtp_tls_security_level = may) uses the offered STARTTLS");
        stored.GetContentAsString().Should().Contain("relayed by Postfix");
        (await postfix.WaitForLogAsync("status=sent")).Should().Contain("TLS connection established to 127.0.0.1");
    }

    /// <summary>An in-memory store that also notes whether each message came over TLS.</summary>
    private sealed class SessionRecordingStore : IMessageStore
    {
        public InMemoryMessageStore Messages { get; } = new();

        public ConcurrentQueue<bool> Secure { get; } = new();

        public ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
        {
            Secure.Enqueue(session.IsSecure);
            return Messages.SaveAsync(session, envelope, content, cancellationToken);
        }
    }
}
