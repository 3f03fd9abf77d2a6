namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>Transcript helpers on top of <see cref="RawSmtpClient"/>.</summary>
public static class RawSmtpClientExtensions
{
    public const string Envelope = "MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\n";

    /// <summary>True when no complete reply line arrives within <paramref name="window"/> (and the connection stays open).</summary>
    public static async Task<bool> IsSilentAsync(this RawSmtpClient client, TimeSpan? window = null)
    {
        try
        {
            var line = await client.ReadLineAsync(window ?? TimeSpan.FromMilliseconds(300));
            return false;
        }
        catch (TimeoutException)
        {
            return true;
        }
    }

    /// <summary>EHLO, then MAIL FROM:&lt;a@c.test&gt; and RCPT TO:&lt;b@s.test&gt;, each answered 250, then DATA and its 354.</summary>
    public static async Task StartDataAsync(this RawSmtpClient client)
    {
        (await client.EhloAsync()).Should().StartWith("250");
        await client.SendAsync(Envelope);
        (await client.ReadRepliesAsync(2)).Should().Equal("250 2.1.0 Sender OK", "250 2.1.5 Recipient OK");
        (await client.CommandAsync("DATA")).Should().StartWith("354 ");
    }

    /// <summary>Reads one reply and returns its first line's code and enhanced code, e.g. "250 2.0.0".</summary>
    public static async Task<string> ReadCodeAsync(this RawSmtpClient client, TimeSpan? timeout = null)
    {
        var reply = await client.ReadReplyAsync(timeout);
        return Code(reply);
    }

    /// <summary>Sends a command and returns the code and enhanced code of its reply.</summary>
    public static async Task<string> CommandCodeAsync(this RawSmtpClient client, string line)
        => Code(await client.CommandAsync(line));

    /// <summary>"550 5.1.1 Mailbox unavailable" → "550 5.1.1"; "220 mx ESMTP" → "220 mx".</summary>
    public static string Code(string reply)
    {
        var lastLine = reply.Split("\r\n")[^1];
        var parts = lastLine.Split(' ', 3);
        return parts.Length >= 2 ? parts[0] + " " + parts[1] : parts[0];
    }
}
