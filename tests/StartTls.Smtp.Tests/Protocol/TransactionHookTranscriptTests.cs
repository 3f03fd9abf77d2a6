using StartTls.Smtp.Authentication;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// The transaction object and the optional hooks: greeting and AUTH on the session handler; message start, content
/// verdict and transaction end on the mailbox filter. Order of calls, refusals and their replies, end reasons.
/// </summary>
public sealed class TransactionHookTranscriptTests
{
    private static async Task<(TestServer Server, RawSmtpClient Client)> StartAsync(HookLog log, RecordingTransactionFilter? filter = null,
        RecordingSessionHooks? handler = null, StartTls.Smtp.Storage.IMessageStore? store = null, Action<SmtpServerOptions>? configure = null)
    {
        var server = await TestServer.StartAsync(configure, store ?? new RecordingStore(log), filter ?? new RecordingTransactionFilter(log), handler ?? new RecordingSessionHooks(log));
        var client = await server.ConnectAsync();
        return (server, client);
    }

    [Fact]
    public async Task Every_hook_runs_in_order_and_sees_one_transaction_with_its_items()
    {
        var log = new HookLog();
        var (server, client) = await StartAsync(log);
        await using (server)
        await using (client)
        {
            (await client.EhloAsync()).Should().StartWith("250");
            await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\n");
            (await client.ReadRepliesAsync(2)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.1.0", "250 2.1.5");
            (await client.CommandAsync("DATA")).Should().StartWith("354 ");
            (await client.CommandCodeAsync("Subject: x\r\n\r\nhi\r\n.")).Should().Be("250 2.0.0");
            (await client.CommandCodeAsync("MAIL FROM:<a2@c.test>")).Should().Be("250 2.1.0");
            (await client.CommandAsync("QUIT")).Should().StartWith("221");
            await log.Closed;
        }

        log.Events.Should().Equal(
            "connected",
            "greeting client.test extended=True",
            "mail a@c.test items=1 same-envelope=True",
            "rcpt b@s.test items=2",
            "start recipients=1 items=3",
            "save 18 bytes",
            "verdict store=250 items=4",
            "end Completed reply=250 current=True",
            "mail a2@c.test items=1 same-envelope=True",
            "end Closed reply=none current=True",
            "closed");
        var transactions = log.Transactions.ToArray();
        transactions.Should().HaveCount(2, "every hook of one transaction gets the same object, and the next a new one");
        transactions[0].Id.Should().EndWith(".1");
        transactions[1].Id.Should().EndWith(".2");
        transactions[0].Id.Should().StartWith(transactions[0].Session.Id);
        transactions[0].Items.Should().ContainKey("stored", "the store wrote into the transaction the hooks see");
        transactions[1].Items.Should().NotContainKey("stored", "items are fresh for the next transaction");
        transactions[0].Session.Transaction.Should().BeNull("the session has no transaction once it ended");
    }

    [Theory]
    [InlineData("RSET", "Reset")]
    [InlineData("EHLO again.test", "NewGreeting")]
    [InlineData("HELO again.test", "NewGreeting")]
    public async Task A_transaction_ended_by_a_command_says_why(string command, string reason)
    {
        var log = new HookLog();
        var (server, client) = await StartAsync(log);
        await using (server)
        await using (client)
        {
            await OpenTransactionAsync(client);
            (await client.CommandAsync(command)).Should().StartWith("250");

            // The end hook ran before the reply was flushed.
            log.Events.Should().Contain($"end {reason} reply=none current=True");
            (await client.CommandCodeAsync("RCPT TO:<c@s.test>")).Should().Be("503 5.5.1", "the transaction is over");
            if (reason == "NewGreeting")
            {
                log.Events.Should().ContainInOrder(["end NewGreeting reply=none current=True", $"greeting again.test extended={command.StartsWith('E')}"],
                    "the transaction the greeting ends has ended before the greeting hook runs");
            }
        }
    }

    [Fact]
    public async Task A_refused_sender_ends_the_transaction_as_SenderRefused()
    {
        var log = new HookLog();
        var (server, client) = await StartAsync(log);
        await using (server)
        await using (client)
        {
            await client.EhloAsync();
            (await client.CommandCodeAsync("MAIL FROM:<refused@c.test>")).Should().Be("550 5.7.1");
            log.Events.Should().EndWith("end SenderRefused reply=none current=True");
        }
    }

    [Fact]
    public async Task A_disconnect_in_the_middle_of_DATA_ends_the_transaction_as_Closed()
    {
        var log = new HookLog();
        var (server, client) = await StartAsync(log);
        await using (server)
        {
            await using (client)
            {
                await OpenTransactionAsync(client);
                (await client.CommandAsync("DATA")).Should().StartWith("354");
                await client.SendAsync("Subject: half a message\r\n");
            }

            await log.Closed;
        }

        log.Events.Should().NotContain(e => e.StartsWith("verdict", StringComparison.Ordinal), "no verdict on a message that never ended");
        log.Events.Should().EndWith(["end Closed reply=none current=True", "closed"]);
    }

    [Fact]
    public async Task A_size_refusal_ends_the_transaction_as_Completed_with_its_reply_and_no_verdict()
    {
        var log = new HookLog();
        var (server, client) = await StartAsync(log, configure: o => o.MaxMessageSize = 10);
        await using (server)
        await using (client)
        {
            await OpenTransactionAsync(client);
            (await client.CommandAsync("DATA")).Should().StartWith("354");
            (await client.CommandCodeAsync("0123456789 0123456789\r\n.")).Should().StartWith("552");
            log.Events.Should().NotContain(e => e.StartsWith("verdict", StringComparison.Ordinal));
            log.Events.Should().EndWith("end Completed reply=552 current=True");
        }
    }

    [Fact]
    public async Task The_greeting_hook_can_refuse_and_the_client_stays_ungreeted()
    {
        var log = new HookLog();
        var handler = new RecordingSessionHooks(log, greeting: s => s.HeloName == "bad.test" ? new SmtpReply(550, "5.7.1", "Bad HELO name") : null);
        var (server, client) = await StartAsync(log, handler: handler);
        await using (server)
        await using (client)
        {
            (await client.CommandAsync("EHLO bad.test")).Should().Be("550 5.7.1 Bad HELO name");
            (await client.CommandCodeAsync("MAIL FROM:<a@c.test>")).Should().Be("503 5.5.1", "a refused greeting is no greeting");
            (await client.CommandAsync("HELO good.test")).Should().StartWith("250 ");
            (await client.CommandCodeAsync("MAIL FROM:<a@c.test>")).Should().Be("250 2.1.0");
            log.Events.Should().ContainInOrder("greeting bad.test extended=True", "greeting good.test extended=False");
        }
    }

    [Fact]
    public async Task A_greeting_hook_that_throws_gets_451_and_one_that_says_421_closes()
    {
        var log = new HookLog();
        var handler = new RecordingSessionHooks(log, greeting: s => s.HeloName == "boom.test"
            ? throw new InvalidOperationException("broken")
            : new SmtpReply(421, "4.7.0", "Go away"));
        var (server, client) = await StartAsync(log, handler: handler);
        await using (server)
        await using (client)
        {
            (await client.CommandCodeAsync("EHLO boom.test")).Should().Be("451 4.3.0");
            (await client.CommandAsync("EHLO other.test")).Should().Be("421 4.7.0 Go away");
            (await client.ReadToEndAsync()).Should().BeEmpty("421 closes the connection");
        }
    }

    private static Action<SmtpServerOptions> WithAuth => o =>
    {
        o.Authentication.AllowInsecureAuthentication = true;
        o.Authentication.PasswordAuthenticator = new InMemoryUserStore().AddUser("alice", "secret").AddUser("barred", "secret");
    };

    [Fact]
    public async Task The_auth_hook_sees_the_identity_and_can_refuse_it()
    {
        var log = new HookLog();
        var handler = new RecordingSessionHooks(log, authenticated: s => s.AuthenticatedIdentity == "barred" ? new SmtpReply(550, "5.7.1", "Account barred") : null);
        var (server, client) = await StartAsync(log, handler: handler, configure: WithAuth);
        await using (server)
        await using (client)
        {
            await client.EhloAsync();
            (await client.CommandAsync("AUTH PLAIN " + AuthTestKitPlain("barred", "secret"))).Should().Be("550 5.7.1 Account barred");
            (await client.CommandCodeAsync("AUTH PLAIN " + AuthTestKitPlain("alice", "secret"))).Should().Be("235 2.7.0", "the refused identity was forgotten");
            log.Events.Should().ContainInOrder("authenticated barred PLAIN", "authenticated alice PLAIN");
        }
    }

    [Fact]
    public async Task An_auth_hook_that_throws_gets_454_and_the_identity_is_forgotten()
    {
        var log = new HookLog();
        var handler = new RecordingSessionHooks(log, authenticated: _ => throw new InvalidOperationException("directory down"));
        var (server, client) = await StartAsync(log, handler: handler, configure: o =>
        {
            WithAuth(o);
            o.Authentication.RequireAuthentication = true;
        });
        await using (server)
        await using (client)
        {
            await client.EhloAsync();
            (await client.CommandCodeAsync("AUTH PLAIN " + AuthTestKitPlain("alice", "secret"))).Should().Be("454 4.7.0");
            (await client.CommandCodeAsync("MAIL FROM:<a@c.test>")).Should().Be("530 5.7.0", "the session is not authenticated");
        }
    }

    private static string AuthTestKitPlain(string user, string password) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("\0" + user + "\0" + password));

    [Theory]
    [InlineData(554, "5.7.1", "Not from here")]
    [InlineData(451, "4.7.1", "Try later")]
    public async Task The_start_hook_can_refuse_DATA_before_354_and_the_transaction_stays_open(int code, string enhanced, string text)
    {
        var log = new HookLog();
        var filter = new RecordingTransactionFilter(log, messageStart: t => t.Items.ContainsKey("refused-once") ? null : Refuse(t));
        var (server, client) = await StartAsync(log, filter: filter);
        await using (server)
        await using (client)
        {
            await OpenTransactionAsync(client);
            (await client.CommandAsync("DATA")).Should().Be($"{code} {enhanced} {text}");
            log.Events.Should().NotContain(e => e.StartsWith("end", StringComparison.Ordinal), "a refused DATA keeps the transaction");
            log.Events.Should().NotContain(e => e.StartsWith("save", StringComparison.Ordinal));

            // The same transaction may try again: the hook accepts the second time.
            (await client.CommandAsync("DATA")).Should().StartWith("354");
            (await client.CommandCodeAsync("x\r\n.")).Should().Be("250 2.0.0");
            log.Transactions.Should().ContainSingle();
        }

        SmtpReply Refuse(SmtpTransaction t)
        {
            t.Items["refused-once"] = true;
            return new SmtpReply(code, enhanced, text);
        }
    }

    [Fact]
    public async Task A_start_hook_that_throws_gets_451_and_one_that_says_421_closes()
    {
        var log = new HookLog();
        var calls = 0;
        var filter = new RecordingTransactionFilter(log, messageStart: _ => ++calls == 1 ? throw new InvalidOperationException("broken") : new SmtpReply(421, "4.3.2", "Closing"));
        var (server, client) = await StartAsync(log, filter: filter);
        await using (server)
        await using (client)
        {
            await OpenTransactionAsync(client);
            (await client.CommandCodeAsync("DATA")).Should().Be("451 4.3.0");
            (await client.CommandAsync("DATA")).Should().Be("421 4.3.2 Closing");
            (await client.ReadToEndAsync()).Should().BeEmpty();
            await log.Closed;
        }

        log.Events.Should().EndWith(["end Closed reply=none current=True", "closed"]);
    }

    [Fact]
    public async Task The_start_hook_can_refuse_the_first_BDAT_chunk_which_is_still_read_and_dropped()
    {
        var log = new HookLog();
        var filter = new RecordingTransactionFilter(log, messageStart: _ => new SmtpReply(554, "5.7.1", "No mail from you"));
        var (server, client) = await StartAsync(log, filter: filter);
        await using (server)
        await using (client)
        {
            await OpenTransactionAsync(client);

            // The chunk's octets look like commands: read as commands they would be answered.
            const string chunk = "NOOP\r\nQUIT\r\n";
            await client.SendAsync($"BDAT {chunk.Length}\r\n{chunk}BDAT 3 LAST\r\nabcNOOP\r\n");
            (await client.ReadRepliesAsync(3)).Should().Equal(
                "554 5.7.1 No mail from you",
                "503 5.5.1 The BDAT transaction failed; send RSET",
                "250 2.0.0 OK");
            log.Events.Count(e => e.StartsWith("start", StringComparison.Ordinal)).Should().Be(1, "the hook is asked once per message");
            (await client.CommandAsync("RSET")).Should().StartWith("250");
            log.Events.Should().EndWith("end Reset reply=none current=True");
        }
    }

    [Fact]
    public async Task The_start_hook_accepts_BDAT_and_is_asked_once_for_all_chunks()
    {
        var log = new HookLog();
        var (server, client) = await StartAsync(log);
        await using (server)
        await using (client)
        {
            await OpenTransactionAsync(client);
            await client.SendAsync("BDAT 4\r\nab\r\nBDAT 3 LAST\r\ncd\n");
            (await client.ReadRepliesAsync(2)).Select(RawSmtpClientExtensions.Code).Should().Equal("250 2.0.0", "250 2.0.0");
            log.Events.Should().ContainInOrder("start recipients=1 items=3", "save 7 bytes", "verdict store=250 items=4", "end Completed reply=250 current=True");
            log.Events.Count(e => e.StartsWith("start", StringComparison.Ordinal)).Should().Be(1);
        }
    }

    [Theory]
    [InlineData(550)]
    [InlineData(554)]
    public async Task The_verdict_can_replace_the_stores_250(int code)
    {
        var log = new HookLog();
        var filter = new RecordingTransactionFilter(log, verdict: (t, reply) => t.Items.ContainsKey("stored") ? new SmtpReply(code, "5.7.1", "Spam") : reply);
        var (server, client) = await StartAsync(log, filter: filter);
        await using (server)
        await using (client)
        {
            await OpenTransactionAsync(client);
            (await client.CommandAsync("DATA")).Should().StartWith("354");
            (await client.CommandAsync("buy now\r\n.")).Should().Be($"{code} 5.7.1 Spam");
            log.Events.Should().EndWith($"end Completed reply={code} current=True");
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task The_verdict_never_turns_a_store_failure_into_250(bool storeThrows)
    {
        var log = new HookLog();
        var filter = new RecordingTransactionFilter(log, verdict: (_, _) => SmtpReply.MessageAccepted);
        var store = new RecordingStore(log, reply: SmtpReply.InsufficientStorage, fail: storeThrows);
        var (server, client) = await StartAsync(log, filter: filter, store: store);
        await using (server)
        await using (client)
        {
            await OpenTransactionAsync(client);
            (await client.CommandAsync("DATA")).Should().StartWith("354");
            (await client.CommandCodeAsync("x\r\n.")).Should().Be(storeThrows ? "451 4.3.0" : "452 4.3.1");
            log.Events.Should().Contain(storeThrows ? "verdict store=451 items=4" : "verdict store=452 items=4");
        }
    }

    [Fact]
    public async Task A_verdict_that_throws_gets_451()
    {
        var log = new HookLog();
        var filter = new RecordingTransactionFilter(log, verdict: (_, _) => throw new InvalidOperationException("scanner down"));
        var (server, client) = await StartAsync(log, filter: filter);
        await using (server)
        await using (client)
        {
            await OpenTransactionAsync(client);
            (await client.CommandAsync("DATA")).Should().StartWith("354");
            (await client.CommandCodeAsync("x\r\n.")).Should().Be("451 4.3.0");
            (await client.CommandCodeAsync("NOOP")).Should().Be("250 2.0.0", "the session goes on");
        }
    }

    /// <summary>EHLO, then MAIL and RCPT pipelined; their replies are read (and not judged: some tests' hooks refuse).</summary>
    private static async Task OpenTransactionAsync(RawSmtpClient client)
    {
        await client.EhloAsync();
        await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\n");
        await client.ReadRepliesAsync(2);
    }
}
