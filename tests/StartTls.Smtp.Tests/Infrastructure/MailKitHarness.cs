using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>A MailKit SmtpClient connected to a test server, recording the protocol transcript for failure messages.</summary>
public sealed class MailKitHarness : IAsyncDisposable
{
    private readonly MemoryStream _log = new();

    private MailKitHarness(CancellationToken cancellationToken)
    {
        CancellationToken = cancellationToken;
        Client = new SmtpClient(new ProtocolLogger(_log, leaveOpen: true)) { Timeout = 10_000, LocalDomain = "client.test" };
    }

    public SmtpClient Client { get; }

    public CancellationToken CancellationToken { get; }

    /// <summary>What was said on the wire so far (C: client, S: server).</summary>
    public string Transcript
    {
        get
        {
            lock (_log)
            {
                return Encoding.UTF8.GetString(_log.GetBuffer(), 0, (int)_log.Length);
            }
        }
    }

    public static async Task<MailKitHarness> ConnectAsync(TestServer server, CancellationToken cancellationToken)
    {
        var harness = new MailKitHarness(cancellationToken);
        await harness.Client.ConnectAsync("127.0.0.1", server.Port, SecureSocketOptions.None, cancellationToken);
        return harness;
    }

    public Task<string> SendAsync(MimeMessage message, FormatOptions? options = null)
        => options is null
            ? Client.SendAsync(message, CancellationToken)
            : Client.SendAsync(options, message, CancellationToken);

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Client.IsConnected)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await Client.DisconnectAsync(true, cts.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ProtocolException or SmtpCommandException)
        {
        }
        finally
        {
            Client.Dispose();
        }
    }

    /// <summary>Parses stored content back into a MIME message.</summary>
    public static MimeMessage Parse(StoredMessage stored) => Parse(stored.Content.ToArray());

    public static MimeMessage Parse(byte[] content)
    {
        using var stream = new MemoryStream(content, writable: false);
        return MimeMessage.Load(stream);
    }

    /// <summary>The decoded bytes of a MIME part.</summary>
    public static byte[] Decode(MimePart part)
    {
        using var output = new MemoryStream();
        (part.Content ?? throw new InvalidOperationException("The part has no content.")).DecodeTo(output);
        return output.ToArray();
    }
}
