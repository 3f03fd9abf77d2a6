using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Chunking;

/// <summary>BDAT and TLS: the STARTTLS hard cutover (T01), RequireTls endpoints (T17) and the trace header's protocol name (T12).</summary>
public sealed class ChunkingTlsTests
{
    [Fact]
    public async Task T01_a_bdat_pipelined_behind_starttls_is_never_run()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate());
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().Contain("250-STARTTLS").And.Contain("250-CHUNKING");
        await client.SendAsync(RawSmtpClientExtensions.Envelope);
        (await client.ReadRepliesAsync(2)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5");
        await client.SendAsync("RSET\r\nSTARTTLS\r\nBDAT 6 LAST\r\nNOOP\r\n");
        (await client.ReadToEndAsync()).Should().Be("250 2.0.0 OK\r\n554 5.5.0 Protocol synchronization error: STARTTLS must be the last command in a group\r\n");
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task T17_bdat_before_tls_on_a_require_tls_endpoint_gets_530_and_its_chunk_is_dropped()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(o => o.Endpoints[0].RequireTls = true));
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("BDAT 12 LAST\r\nRSET\r\nHELP\r\nQUIT\r\n");
        (await client.ReadToEndAsync()).Should().Be("530 5.7.0 Must issue a STARTTLS command first\r\n221 2.0.0 Bye\r\n",
            "the RSET and HELP inside the chunk are data, dropped");
    }

    [Fact]
    public async Task T12_bdat_mail_in_maildir_has_a_received_header_with_esmtp_or_esmtps()
    {
        var dir = Path.Combine(Path.GetTempPath(), "bdat-maildir-" + Guid.NewGuid().ToString("N"));
        try
        {
            var maildir = new MaildirMessageStore(new MaildirStoreOptions { Path = dir, AddTraceHeaders = true, ServerName = "mx.test", FsyncDirectory = false });
            await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(), maildir);
            await using (var plain = await server.ConnectAsync())
            {
                await plain.EhloAsync("plain.test");
                await plain.SendAsync(RawSmtpClientExtensions.Envelope + "BDAT 18\r\nSubject: plain\r\n\r\nBDAT 2 LAST\r\nx\n");
                (await plain.ReadRepliesAsync(4)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.0.0");
            }

            var (raw, tls) = await server.ConnectWithStartTlsAsync();
            await using (raw)
            await using (tls)
            {
                await tls.EhloAsync("secure.test");
                await tls.SendAsync(RawSmtpClientExtensions.Envelope + "BDAT 21 LAST\r\nSubject: secure\r\n\r\nx\n");
                for (var i = 0; i < 2; i++)
                {
                    (await tls.ReadReplyAsync()).Should().StartWith("250");
                }

                RawSmtpClientExtensions.Code(await tls.ReadReplyAsync()).Should().Be("250 2.0.0");
            }

            var texts = await Task.WhenAll(Directory.GetFiles(Path.Combine(dir, "new")).Select(f => File.ReadAllTextAsync(f)));
            texts.Should().HaveCount(2);
            var plainText = texts.Single(t => t.Contains("Subject: plain", StringComparison.Ordinal));
            var secureText = texts.Single(t => t.Contains("Subject: secure", StringComparison.Ordinal));
            plainText.Should().Contain("from plain.test").And.Contain(" with ESMTP id ").And.EndWith("Subject: plain\r\n\r\nx\n");
            secureText.Should().Contain("from secure.test").And.Contain(" with ESMTPS id ").And.EndWith("Subject: secure\r\n\r\nx\n");
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
