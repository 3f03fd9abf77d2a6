using System.Net.Sockets;
using System.Text;

namespace StartTls.Smtp.MailCatcher.Tests.Infrastructure;

/// <summary>
/// Sends bytes that no mail library would produce (a message MimeKit cannot parse), over plain SMTP on loopback:
/// the catcher offers STARTTLS but, like a development server, does not require it.
/// </summary>
internal static class PlainSmtp
{
    /// <summary>Sends <paramref name="content"/> (already dot-stuffed, ending in CRLF) and returns the reply to the end of DATA.</summary>
    public static async Task<string> SendRawAsync(int port, string content)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync("127.0.0.1", port, timeout.Token);
        await using var stream = tcp.GetStream();
        using var reader = new StreamReader(stream, Encoding.ASCII);
        await ReadReplyAsync(reader, "220", timeout.Token);
        await SendAsync(stream, "EHLO client.test\r\n", timeout.Token);
        await ReadReplyAsync(reader, "250", timeout.Token);
        await SendAsync(stream, "MAIL FROM:<raw@example.com>\r\n", timeout.Token);
        await ReadReplyAsync(reader, "250", timeout.Token);
        await SendAsync(stream, "RCPT TO:<rcpt@example.org>\r\n", timeout.Token);
        await ReadReplyAsync(reader, "250", timeout.Token);
        await SendAsync(stream, "DATA\r\n", timeout.Token);
        await ReadReplyAsync(reader, "354", timeout.Token);
        await SendAsync(stream, content + ".\r\n", timeout.Token);
        var reply = await ReadReplyAsync(reader, expected: null, timeout.Token);
        await SendAsync(stream, "QUIT\r\n", timeout.Token);
        return reply;
    }

    private static Task SendAsync(NetworkStream stream, string text, CancellationToken cancellationToken)
        => stream.WriteAsync(Encoding.ASCII.GetBytes(text), cancellationToken).AsTask();

    private static async Task<string> ReadReplyAsync(StreamReader reader, string? expected, CancellationToken cancellationToken)
    {
        while (true)
        {
            var line = await reader.ReadLineAsync(cancellationToken) ?? throw new IOException("The server closed the connection.");
            if (line.Length >= 4 && line[3] == '-')
            {
                continue; // A continuation line of a multi-line reply.
            }

            if (expected is not null && !line.StartsWith(expected, StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"Expected {expected}, got: {line}");
            }

            return line;
        }
    }
}
