namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>Assembles one SMTP reply from lines, for every test client (raw socket, TLS, in-memory pipe).</summary>
public static class SmtpReplyReader
{
    /// <summary>
    /// Reads lines with <paramref name="readLine"/> until the last line of a reply (no '-' after the code); returns them
    /// joined by CRLF, without the last CRLF. Throws when the connection ends first, naming <paramref name="connection"/>.
    /// </summary>
    public static async Task<string> ReadReplyAsync(Func<Task<string?>> readLine, string connection)
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await readLine() ?? throw new EndOfStreamException(connection + " closed while waiting for a reply; got: " + string.Join(" | ", lines));
            lines.Add(line);
            if (line.Length < 4 || line[3] != '-')
            {
                return string.Join("\r\n", lines);
            }
        }
    }
}
