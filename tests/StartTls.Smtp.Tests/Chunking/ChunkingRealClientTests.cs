using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Chunking;

/// <summary>
/// A real client that speaks CHUNKING: MailKit's SmtpClient sends a message with a binary part by BDAT with
/// <c>BODY=BINARYMIME</c>, and any message by BDAT when told to prefer it. (swaks and Python's smtplib cannot send BDAT.)
/// </summary>
public sealed class ChunkingRealClientTests
{
    private const int TestTimeout = 30_000;

    private static CancellationTokenSource Deadline() => new(TimeSpan.FromSeconds(20));

    private static MimeMessage Message(MimeEntity body)
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Alice", "alice@c.test"));
        message.To.Add(new MailboxAddress("Bob", "bob@s.test"));
        message.Subject = "Chunking test";
        message.Body = body;
        return message;
    }

    /// <summary>Connects MailKit's client made to send every message by BDAT when the server offers CHUNKING.</summary>
    private static async Task<(BdatClient Client, MemoryStream Log)> ConnectBdatClientAsync(TestServer server, CancellationToken cancellationToken)
    {
        var log = new MemoryStream();
        var client = new BdatClient(new ProtocolLogger(log, leaveOpen: true)) { Timeout = 10_000, LocalDomain = "client.test" };
        await client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None, cancellationToken);
        return (client, log);
    }

    private static string Transcript(MemoryStream log) => Encoding.UTF8.GetString(log.ToArray());

    [Fact(Timeout = TestTimeout)]
    public async Task MailKit_sends_by_bdat_and_the_message_is_stored_intact_dot_lines_included()
    {
        await using var server = await TestServer.StartAsync();
        using var cts = Deadline();
        var (client, log) = await ConnectBdatClientAsync(server, cts.Token);
        using var disposeClient = client;
        using var disposeLog = log;
        var text = "First line\r\n.\r\n..two dots\r\n.\r\nQUIT\r\nlast\r\n";
        var message = Message(new TextPart("plain") { Text = text });

        (await client.SendAsync(message, cts.Token)).Should().StartWith("2.0.0", Transcript(log));
        await client.DisconnectAsync(true, cts.Token);

        Transcript(log).Should().Contain("C: BDAT ").And.NotContain("C: DATA");
        var stored = server.Messages.Messages.Should().ContainSingle().Subject;
        ((TextPart)MailKitHarness.Parse(stored).Body!).Text.ReplaceLineEndings("\r\n").Should().Be(text);
        using var wire = new MemoryStream();
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        await message.WriteToAsync(options, wire);
        stored.Content.ToArray().Should().Equal(wire.ToArray(), "BDAT content is stored byte for byte as the client serialised it");
    }

    [Fact(Timeout = TestTimeout)]
    public async Task MailKit_sends_a_binary_part_with_body_binarymime_and_it_decodes_to_the_same_bytes()
    {
        await using var server = await TestServer.StartAsync();
        using var cts = Deadline();
        await using var mailKit = await MailKitHarness.ConnectAsync(server, cts.Token);
        var bytes = new byte[200_000];
        new Random(7).NextBytes(bytes);
        var part = new MimePart("application", "octet-stream")
        {
            Content = new MimeContent(new MemoryStream(bytes)),
            ContentTransferEncoding = ContentEncoding.Binary,
            FileName = "raw.bin",
        };

        (await mailKit.SendAsync(Message(part))).Should().StartWith("2.0.0", mailKit.Transcript);

        mailKit.Transcript.Should().Contain("BODY=BINARYMIME").And.Contain("C: BDAT ");
        var stored = server.Messages.Messages.Should().ContainSingle().Subject;
        stored.Envelope.BodyType.Should().Be(SmtpBodyType.BinaryMime);
        MailKitHarness.Decode((MimePart)MailKitHarness.Parse(stored).Body!).Should().Equal(bytes);
    }

    [Fact(Timeout = TestTimeout)]
    public async Task MailKit_falls_back_to_data_when_chunking_is_disabled()
    {
        await using var server = await TestServer.StartAsync(o => o.EnableChunking = false);
        using var cts = Deadline();
        var (client, log) = await ConnectBdatClientAsync(server, cts.Token);
        using var disposeClient = client;
        using var disposeLog = log;

        (await client.SendAsync(Message(new TextPart("plain") { Text = "hello\r\n" }), cts.Token)).Should().StartWith("2.0.0", Transcript(log));
        await client.DisconnectAsync(true, cts.Token);

        Transcript(log).Should().Contain("C: DATA").And.NotContain("C: BDAT").And.NotContain("CHUNKING");
        server.Messages.Count.Should().Be(1);
    }

    /// <summary>MailKit's client, preferring BDAT over DATA whenever the server offers CHUNKING.</summary>
    private sealed class BdatClient(IProtocolLogger logger) : SmtpClient(logger)
    {
        protected override bool PreferSendAsBinaryData => true;
    }
}
