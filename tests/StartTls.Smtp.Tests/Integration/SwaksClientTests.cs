using System.Text;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Integration;

/// <summary>
/// swaks (the "Swiss Army Knife for SMTP") against the server. A missing swaks follows <see cref="MissingTool"/>:
/// skipped with the reason, failed in CI (which installs it in .ci/run).
/// </summary>
public sealed class SwaksClientTests
{
    private static readonly TimeSpan ProcessTimeout = TimeSpan.FromSeconds(20);

    private static async Task<CliResult> RunSwaksAsync(TestServer server, params string[] extra)
    {
        string[] common =
        [
            "--server", "127.0.0.1", "--port", server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--from", "a@c.test", "--to", "b@s.test", "--helo", "client.test", "--timeout", "10",
        ];
        return await CliTool.RunAsync("swaks", [.. common, .. extra], timeout: ProcessTimeout);
    }

    [SkippableTheory(Timeout = 30_000)]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Body_message_is_delivered(bool pipeline)
    {
        await using var server = await TestServer.StartAsync();
        var body = pipeline ? "Hello via swaks, pipelined." : "Hello via swaks, one command at a time.";
        string[] args = pipeline ? ["--body", body, "--pipeline"] : ["--body", body];

        var result = await RunSwaksAsync(server, args);

        result.ExitCode.Should().Be(0, result.ToString());
        if (pipeline)
        {
            result.StandardOutput.Should().Contain("PIPELINING", "swaks saw the capability and used it");
        }

        var stored = server.Messages.Messages.Should().ContainSingle(result.ToString()).Subject;
        stored.Envelope.From!.Address.Should().Be("a@c.test");
        stored.Envelope.Recipients.Select(r => r.Mailbox.Address).Should().Equal("b@s.test");
        stored.HeloName.Should().Be("client.test");
        var text = stored.GetContentAsString();
        text.Should().StartWith("Date: ");
        text.Should().Contain("\r\nTo: b@s.test\r\n").And.Contain("\r\nFrom: a@c.test\r\n");
        // swaks appends empty lines after the body; the stored content keeps them, and ends with CRLF.
        text.Should().Contain("\r\n\r\n" + body + "\r\n");
        text.TrimEnd('\r', '\n').Should().EndWith("\r\n\r\n" + body);
        text.Should().EndWith("\r\n");
        MailKitHarness.Parse(stored).TextBody.Should().StartWith(body);
    }

    [SkippableFact(Timeout = 30_000)]
    public async Task Data_file_with_leading_dots_is_unstuffed()
    {
        await using var server = await TestServer.StartAsync();
        var file = Path.Combine(Path.GetTempPath(), "swaks-data-" + Guid.NewGuid().ToString("N") + ".eml");
        // No '%' and no backslash: swaks would treat them as tokens. No final "." line: swaks would take it as the terminator.
        const string data = "From: a@c.test\nTo: b@s.test\nSubject: dots from swaks\n\n.leading dot\n..two dots\n.\n...\n. spaced\nlast line\n";
        await File.WriteAllTextAsync(file, data, Encoding.ASCII);
        try
        {
            var result = await RunSwaksAsync(server, "--data", "@" + file, "--pipeline");

            result.ExitCode.Should().Be(0, result.ToString());
            var stored = server.Messages.Messages.Should().ContainSingle(result.ToString()).Subject;
            var expected = data.Replace("\n", "\r\n", StringComparison.Ordinal) + "\r\n";
            stored.GetContentAsString().Should().Be(expected, result.ToString());
            MailKitHarness.Parse(stored).Subject.Should().Be("dots from swaks");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [SkippableFact(Timeout = 30_000)]
    public async Task Rejected_recipient_makes_swaks_fail()
    {
        var filter = new RecipientRuleFilter(r => r.Mailbox.LocalPart == "b" ? SmtpReply.MailboxUnavailable : null);
        await using var server = await TestServer.StartAsync(filter: filter);

        var result = await RunSwaksAsync(server, "--body", "nobody home", "--pipeline");

        result.ExitCode.Should().NotBe(0, result.ToString());
        (result.StandardOutput + result.StandardError).Should().Contain("550 5.1.1");
        server.Messages.Count.Should().Be(0);
    }
}
