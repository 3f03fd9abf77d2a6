using System.Globalization;
using System.Text;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Integration;

/// <summary>Python's smtplib (the standard library client) against the server, run with <c>python3 -c</c>.</summary>
public sealed class PythonSmtplibClientTests
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(20);

    private static async Task<CliResult> RunPythonAsync(TestServer server, string script)
        => await CliTool.RunAsync("python3", ["-c", script, server.Port.ToString(CultureInfo.InvariantCulture)], timeout: ProcessTimeout);

    [SkippableFact(Timeout = 30_000)]
    public async Task Sendmail_delivers_the_message_exactly()
    {
        await using var server = await TestServer.StartAsync();
        const string script = """
            import smtplib, sys
            port = int(sys.argv[1])
            msg = ("From: a@c.test\r\nTo: b@s.test, c@s.test\r\nSubject: from smtplib\r\n\r\n"
                   "Hello from Python.\r\n.leading dot\r\n.\r\n..\r\nlast\r\n")
            s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.test', timeout=10)
            code, _ = s.ehlo()
            assert code == 250, code
            assert s.has_extn('pipelining') and s.has_extn('8bitmime') and s.has_extn('smtputf8'), s.esmtp_features
            refused = s.sendmail('a@c.test', ['b@s.test', 'c@s.test'], msg)
            assert refused == {}, refused
            code, _ = s.quit()
            assert code == 221, code
            print('ok')
            """;

        var result = await RunPythonAsync(server, script);

        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardOutput.Should().Contain("ok");
        var stored = server.Messages.Messages.Should().ContainSingle(result.ToString()).Subject;
        stored.Envelope.From!.Address.Should().Be("a@c.test");
        stored.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("b@s.test", "c@s.test");
        stored.HeloName.Should().Be("client.test");
        stored.GetContentAsString().Should().Be(
            "From: a@c.test\r\nTo: b@s.test, c@s.test\r\nSubject: from smtplib\r\n\r\nHello from Python.\r\n.leading dot\r\n.\r\n..\r\nlast\r\n");
    }

    [SkippableFact(Timeout = 30_000)]
    public async Task Dsn_parameters_from_smtplib_reach_the_envelope_and_recipients()
    {
        await using var server = await TestServer.StartAsync();
        const string script = """
            import smtplib, sys
            port = int(sys.argv[1])
            with smtplib.SMTP('127.0.0.1', port, local_hostname='client.test', timeout=10) as s:
                s.ehlo()
                assert s.has_extn('dsn'), s.esmtp_features
                assert s.esmtp_features.get('limits') == 'RCPTMAX=100', s.esmtp_features
                refused = s.sendmail('a@c.test', ['b@s.test', 'c@s.test'], 'Subject: dsn\r\n\r\nbody\r\n',
                                     mail_options=['RET=HDRS', 'ENVID=QQ+2B314159'],
                                     rcpt_options=['NOTIFY=SUCCESS,DELAY', 'ORCPT=rfc822;b+2Bold@s.test'])
                assert refused == {}, refused
                try:
                    s.sendmail('a@c.test', ['b@s.test'], 'x', rcpt_options=['NOTIFY=NEVER,SUCCESS'])
                    raise SystemExit('accepted NOTIFY=NEVER,SUCCESS')
                except smtplib.SMTPRecipientsRefused as e:
                    print('refused', e.recipients['b@s.test'][0])
            print('ok')
            """;

        var result = await RunPythonAsync(server, script);

        result.ExitCode.Should().Be(0, result.ToString());
        result.StandardOutput.Should().Contain("refused 501").And.Contain("ok");
        var stored = server.Messages.Messages.Should().ContainSingle(result.ToString()).Subject;
        stored.Envelope.DsnReturn.Should().Be(DsnReturn.Headers);
        stored.Envelope.DsnEnvelopeId.Should().Be("QQ+314159");
        stored.Envelope.Recipients.Should().AllSatisfy(r =>
        {
            r.DsnNotify.Should().Be(DsnNotify.Success | DsnNotify.Delay);
            r.OriginalRecipient!.Address.Should().Be("b+old@s.test");
        });
    }

    [SkippableFact(Timeout = 30_000)]
    public async Task Send_message_with_SMTPUTF8_delivers_utf8_addresses_and_headers()
    {
        await using var server = await TestServer.StartAsync();
        // Non-ASCII written as escapes, so the script's own encoding cannot matter.
        const string script = """
            import smtplib, sys
            from email.message import EmailMessage
            port = int(sys.argv[1])
            sender = 'j\u00f6ran@ex\u00e4mple.test'
            rcpt = 'b\u00f6b@ex\u00e4mple.test'
            msg = EmailMessage()
            msg['From'] = sender
            msg['To'] = rcpt
            msg['Subject'] = 'Gr\u00fc\u00dfe aus K\u00f6ln'
            msg.set_content('H\u00e4llo w\u00f6rld\n.dot line\n')
            with smtplib.SMTP('127.0.0.1', port, local_hostname='client.test', timeout=10) as s:
                s.set_debuglevel(1)
                s.ehlo()
                s.send_message(msg, mail_options=['SMTPUTF8'])
            print('ok')
            """;

        var result = await RunPythonAsync(server, script);

        result.ExitCode.Should().Be(0, result.ToString());
        var stored = server.Messages.Messages.Should().ContainSingle(result.ToString()).Subject;
        stored.Envelope.IsSmtpUtf8.Should().BeTrue();
        stored.Envelope.From!.Address.Should().Be("jöran@exämple.test");
        stored.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("böb@exämple.test");
        var text = stored.GetContentAsString();
        text.Should().Contain("From: jöran@exämple.test\r\n").And.Contain("To: böb@exämple.test\r\n");
        var parsed = MailKitHarness.Parse(stored);
        parsed.Subject.Should().Be("Grüße aus Köln");
        parsed.TextBody!.ReplaceLineEndings("\r\n").Should().Contain("Hällo wörld\r\n.dot line\r\n");
    }

    [SkippableFact(Timeout = 30_000)]
    public async Task Send_message_with_international_addresses_and_no_explicit_options_uses_SMTPUTF8()
    {
        await using var server = await TestServer.StartAsync();
        const string script = """
            import smtplib, sys
            from email.message import EmailMessage
            port = int(sys.argv[1])
            msg = EmailMessage()
            msg['From'] = 'j\u00f6ran@ex\u00e4mple.test'
            msg['To'] = 'b@s.test'
            msg['Subject'] = 'implicit'
            msg.set_content('body\n')
            with smtplib.SMTP('127.0.0.1', port, local_hostname='client.test', timeout=10) as s:
                s.send_message(msg)
            print('ok')
            """;

        var result = await RunPythonAsync(server, script);

        result.ExitCode.Should().Be(0, result.ToString());
        var stored = server.Messages.Messages.Should().ContainSingle(result.ToString()).Subject;
        stored.Envelope.IsSmtpUtf8.Should().BeTrue();
        stored.Envelope.BodyType.Should().Be(SmtpBodyType.EightBitMime);
        stored.Envelope.From!.Address.Should().Be("jöran@exämple.test");
    }

    /// <summary>
    /// The message as a Python literal passed to <c>sendmail()</c>, and what is stored in each mode (null: refused).
    /// smtplib converts a str's bare CR and LF to CRLF, then doubles a dot at the start of the message and after every
    /// LF (bare or not, never after a bare CR); it sends bytes as they are apart from that doubling.
    /// </summary>
    public static TheoryData<string, string, string?, string?> LineEndingMessages => new()
    {
        // literal, what it is, stored in Reject mode, stored in Normalize mode
        {
            """b"Subject: dots\r\n\r\n.x\r\n..y\r\n.\r\nend\r\n" """,
            "bytes, CRLF, leading dots",
            "Subject: dots\r\n\r\n.x\r\n..y\r\n.\r\nend\r\n",
            "Subject: dots\r\n\r\n.x\r\n..y\r\n.\r\nend\r\n"
        },
        {
            """b"Subject: dots\n\n.x\n..y\n.\nend\r\n" """,
            "bytes, bare LF, leading dots (the issue: .x was stored as ..x)",
            null,
            "Subject: dots\r\n\r\n.x\r\n..y\r\n.\r\nend\r\n"
        },
        {
            """b".first\nSubject: all LF\n\n.\n..\n" """,
            "bytes, only bare LF, leading dots, no final CRLF (smtplib adds one: an empty last line)",
            null,
            ".first\r\nSubject: all LF\r\n\r\n.\r\n..\r\n\r\n"
        },
        {
            """b"Subject: plain\n\nhello\nworld\r\n" """,
            "bytes, bare LF, no leading dots",
            null,
            "Subject: plain\r\n\r\nhello\r\nworld\r\n"
        },
        {
            """b"Subject: cr\r\n\r\na\r.x\r\nb\r\n" """,
            "bytes, bare CR then a dot (smtplib does not double it)",
            null,
            "Subject: cr\r\n\r\na\r\n.x\r\nb\r\n"
        },
        {
            """ "Subject: dots\n\n.x\n..y\n.\nend\n" """,
            "str, bare LF, leading dots",
            "Subject: dots\r\n\r\n.x\r\n..y\r\n.\r\nend\r\n",
            "Subject: dots\r\n\r\n.x\r\n..y\r\n.\r\nend\r\n"
        },
        {
            """ "Subject: dots\r\n\r\n.x\r\n..y\r\nend\r\n" """,
            "str, CRLF, leading dots",
            "Subject: dots\r\n\r\n.x\r\n..y\r\nend\r\n",
            "Subject: dots\r\n\r\n.x\r\n..y\r\nend\r\n"
        },
        {
            """ "Subject: cr\r\n\r\na\r.x\rb\r\n" """,
            "str, bare CR, leading dot",
            "Subject: cr\r\n\r\na\r\n.x\r\nb\r\n",
            "Subject: cr\r\n\r\na\r\n.x\r\nb\r\n"
        },
    };

    [SkippableTheory(Timeout = 30_000)]
    [MemberData(nameof(LineEndingMessages))]
    public async Task Sendmail_with_bytes_or_str_and_leading_dots_is_stored_exactly_or_refused_with_a_hint(
        string literal, string description, string? storedInReject, string? storedInNormalize)
    {
        foreach (var mode in new[] { BareLineEndingHandling.Reject, BareLineEndingHandling.Normalize })
        {
            var expected = mode == BareLineEndingHandling.Reject ? storedInReject : storedInNormalize;
            await using var server = await TestServer.StartAsync(o => o.BareLineEndings = mode);
            var script = $$"""
                import smtplib, sys
                port = int(sys.argv[1])
                msg = {{literal.Trim()}}
                s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.test', timeout=10)
                try:
                    refused = s.sendmail('a@c.test', ['b@s.test'], msg)
                    assert refused == {}, refused
                    s.quit()
                    print('accepted')
                except smtplib.SMTPDataError as e:
                    print('refused', e.smtp_code, e.smtp_error.decode())
                    s.close()
                """;

            var result = await RunPythonAsync(server, script);

            var because = $"{description}, {mode}: {result}";
            result.ExitCode.Should().Be(0, because);
            if (expected is null)
            {
                result.StandardOutput.Trim().Should().Be(
                    "refused 550 5.6.0 Bare CR or LF in message content: send every line ending as CRLF (for example curl --crlf)",
                    because);
                server.Messages.Count.Should().Be(0, because);
            }
            else
            {
                result.StandardOutput.Trim().Should().Be("accepted", because);
                var stored = server.Messages.Messages.Should().ContainSingle(because).Subject;
                Encoding.Latin1.GetString(stored.Content.Span).Should().Be(expected, because);
            }
        }
    }

    [SkippableFact(Timeout = 30_000)]
    public async Task Refused_recipient_is_reported_by_sendmail_and_the_rest_is_delivered()
    {
        var filter = new RecipientRuleFilter(r => r.Mailbox.LocalPart == "nobody" ? SmtpReply.MailboxUnavailable : null);
        await using var server = await TestServer.StartAsync(filter: filter);
        const string script = """
            import smtplib, sys
            port = int(sys.argv[1])
            with smtplib.SMTP('127.0.0.1', port, local_hostname='client.test', timeout=10) as s:
                refused = s.sendmail('a@c.test', ['b@s.test', 'nobody@s.test'], 'Subject: partial\r\n\r\nbody\r\n')
            print(refused)
            assert refused == {'nobody@s.test': (550, b'5.1.1 Mailbox unavailable')}, refused
            """;

        var result = await RunPythonAsync(server, script);

        result.ExitCode.Should().Be(0, result.ToString());
        var stored = server.Messages.Messages.Should().ContainSingle(result.ToString()).Subject;
        stored.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("b@s.test");
    }
}
