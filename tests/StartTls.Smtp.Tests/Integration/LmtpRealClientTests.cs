using System.Globalization;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tests.Storage;

namespace StartTls.Smtp.Tests.Integration;

/// <summary>
/// LMTP endpoints over TCP: Python's <c>smtplib.LMTP</c> (the standard library client) and Postfix's
/// <c>smtp-source -L</c> read one reply per recipient, and the Maildir store answers each recipient and names LMTP in
/// its Received header.
/// </summary>
public sealed class LmtpRealClientTests
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(20);

    [SkippableFact(Timeout = 30_000)]
    public async Task Python_smtplib_lmtp_gets_a_result_per_recipient()
    {
        var store = LmtpTestStore.ByAddress(new Dictionary<string, SmtpReply> { ["c@s.test"] = SmtpReply.MailboxFull, ["d@s.test"] = SmtpReply.MailboxUnavailable });
        var filter = new DelegateMailboxFilter(recipient: r => r.Mailbox.Address == "e@s.test" ? SmtpReply.MailboxUnavailable : SmtpReply.RecipientOk);
        await using var server = await TestServer.StartAsync(o => o.Endpoints[0].Protocol = SmtpEndpointProtocol.Lmtp, store: store, filter: filter);

        // smtplib.LMTP greets with LHLO, but its data() reads one reply (the first recipient's): the others are read
        // with getreply(), one per recipient the server accepted, as RFC 2033 §4.2 says a client must.
        const string script = """
            import smtplib, sys
            port = int(sys.argv[1])
            s = smtplib.LMTP('127.0.0.1', port, local_hostname='mta.test', timeout=10)
            code, _ = s.ehlo()
            assert code == 250, code
            assert s.has_extn('pipelining') and s.has_extn('enhancedstatuscodes'), s.esmtp_features
            assert s.docmd('EHLO', 'mta.test')[0] == 500
            assert s.docmd('HELO', 'mta.test')[0] == 500
            s.mail('a@c.test')
            accepted = []
            for r in ['b@s.test', 'c@s.test', 'd@s.test', 'e@s.test']:
                code, msg = s.rcpt(r)
                if code == 250:
                    accepted.append(r)
                else:
                    print('rcpt', r, code)
            results = [s.data('Subject: lmtp\r\n\r\nhello\r\n')]
            results += [s.getreply() for _ in accepted[1:]]
            for r, (code, msg) in zip(accepted, results):
                print('data', r, code, msg.decode())
            code, _ = s.quit()
            assert code == 221, code
            print('ok')
            """;

        var result = await CliTool.RunAsync("python3", ["-c", script, server.Port.ToString(CultureInfo.InvariantCulture)], timeout: ProcessTimeout);

        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Should().Equal(
            "rcpt e@s.test 550",
            "data b@s.test 250 2.0.0 Message accepted",
            "data c@s.test 452 4.2.2 Mailbox full, try again later",
            "data d@s.test 550 5.1.1 Mailbox unavailable",
            "ok");
        store.Contents.Should().ContainSingle().Which.Should().Be("Subject: lmtp\r\n\r\nhello\r\n");
    }

    [SkippableFact(Timeout = 30_000)]
    public async Task Postfix_smtp_source_speaks_lmtp_and_reads_a_reply_per_recipient()
    {
        // smtp-source -L -r 3 -t rcpt@s.test sends to 3rcpt@s.test, 2rcpt@s.test and rcpt@s.test, in that order, and
        // reads one reply per recipient after the dot: any non-2xx one is fatal to it.
        var store = LmtpTestStore.ByAddress(new Dictionary<string, SmtpReply> { ["2rcpt@s.test"] = SmtpReply.MailboxFull });
        await using var server = await TestServer.StartAsync(o => o.Endpoints[0].Protocol = SmtpEndpointProtocol.Lmtp, store: store);
        var address = "127.0.0.1:" + server.Port.ToString(CultureInfo.InvariantCulture);

        var accepted = await CliTool.RunAsync("smtp-source", ["-L", "-v", "-m", "2", "-r", "2", "-f", "a@c.test", "-t", "ok@s.test", "-M", "mta.test", address], timeout: ProcessTimeout);
        var refused = await CliTool.RunAsync("smtp-source", ["-L", "-v", "-r", "3", "-f", "a@c.test", "-t", "rcpt@s.test", "-M", "mta.test", address], timeout: ProcessTimeout);

        accepted.ExitCode.Should().Be(0, accepted.ToString());
        accepted.StandardError.Should().Contain("LHLO mta.test");
        CountOf(accepted.StandardError, "<<< 250 2.0.0 Message accepted").Should().Be(4, "two messages, two recipients each: " + accepted);
        refused.ExitCode.Should().NotBe(0, refused.ToString());
        refused.StandardError.Should().Contain("<<< 250 2.0.0 Message accepted", "3rcpt@s.test, first in RCPT order, was accepted")
            .And.Contain("end of data rejected: 452 4.2.2 Mailbox full", "2rcpt@s.test's own reply came second");
        store.Contents.Should().HaveCount(3, "every message was received; the replies differed per recipient");

        static int CountOf(string text, string value)
        {
            var count = 0;
            for (var i = text.IndexOf(value, StringComparison.Ordinal); i >= 0; i = text.IndexOf(value, i + 1, StringComparison.Ordinal))
            {
                count++;
            }

            return count;
        }
    }

    [Fact]
    public async Task The_maildir_store_answers_each_recipient_and_its_received_header_says_lmtp()
    {
        using var directory = new TempDirectory();
        using var maildir = new MaildirMessageStore(new MaildirStoreOptions { Path = directory.Maildir, ServerName = "lmtp.test" });
        await using var server = await TestServer.StartAsync(o => o.Endpoints[0].Protocol = SmtpEndpointProtocol.Lmtp, store: maildir);
        await using var client = await server.ConnectAsync(readGreeting: false);
        (await client.ReadReplyAsync()).Should().Be("220 mx.test LMTP ready");
        (await client.CommandAsync("LHLO mta.test")).Should().StartWith("250-mx.test");

        await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nRCPT TO:<c@s.test>\r\nDATA\r\n");
        var replies = await client.ReadRepliesAsync(4);
        replies[^1].Should().StartWith("354 ");
        await client.SendAsync("Subject: x\r\n\r\nhi\r\n.\r\n");

        var results = await client.ReadRepliesAsync(2);
        results.Should().OnlyContain(r => r.StartsWith("250 2.0.0 OK queued as ", StringComparison.Ordinal));
        results[1].Should().Be(results[0], "the Maildir store's one reply answers each recipient");
        var file = directory.Files("new").Should().ContainSingle().Subject;
        var text = await File.ReadAllTextAsync(file);
        text.Should().Contain("by lmtp.test with LMTP id ").And.EndWith("Subject: x\r\n\r\nhi\r\n");
    }
}
