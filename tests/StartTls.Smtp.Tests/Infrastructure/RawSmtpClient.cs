using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// A raw-socket SMTP client for transcripts: sends exact bytes (one write each) and reads whole replies.
/// Every read has a timeout, so a test can never hang.
/// </summary>
public sealed class RawSmtpClient : IAsyncDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly MemoryStream _pending = new();

    private RawSmtpClient(Socket socket) => _socket = socket;

    public Socket Socket => _socket;

    public static async Task<RawSmtpClient> ConnectAsync(EndPoint endPoint)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        return new RawSmtpClient(socket);
    }

    /// <summary>Connects from <paramref name="localAddress"/> (another loopback address, for a proxy test's client).</summary>
    public static async Task<RawSmtpClient> ConnectFromAsync(EndPoint endPoint, IPAddress localAddress)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        socket.Bind(new IPEndPoint(localAddress, 0));
        await socket.ConnectAsync(endPoint);
        return new RawSmtpClient(socket);
    }

    /// <summary>Sends the text as ISO-8859-1 bytes (so "\xC3" is one octet) in one write.</summary>
    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await _socket.SendAsync(bytes.AsMemory(sent), SocketFlags.None);
        }
    }

    /// <summary>Reads one complete reply (all its lines), returned with CRLFs between lines and without the last CRLF.</summary>
    public Task<string> ReadReplyAsync(TimeSpan? timeout = null) => SmtpReplyReader.ReadReplyAsync(() => ReadLineAsync(timeout), "Connection");

    /// <summary>Reads replies until <paramref name="count"/> have arrived.</summary>
    public async Task<List<string>> ReadRepliesAsync(int count, TimeSpan? timeout = null)
    {
        var replies = new List<string>();
        for (var i = 0; i < count; i++)
        {
            replies.Add(await ReadReplyAsync(timeout));
        }

        return replies;
    }

    /// <summary>Sends a command line (CRLF added) and reads the reply.</summary>
    public async Task<string> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    /// <summary>Reads one CRLF line, or null at end of stream.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (true)
        {
            var line = TakeLine();
            if (line is not null)
            {
                return line;
            }

            int read;
            try
            {
                read = await _socket.ReceiveAsync(_buffer, SocketFlags.None, cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("No complete reply line within the timeout; pending: " + Encoding.Latin1.GetString(_pending.GetBuffer(), 0, (int)_pending.Length));
            }
            catch (SocketException)
            {
                read = 0;
            }

            if (read == 0)
            {
                return null;
            }

            _pending.Write(_buffer, 0, read);
        }
    }

    private string? TakeLine()
    {
        var data = _pending.GetBuffer().AsSpan(0, (int)_pending.Length);
        var lf = data.IndexOf((byte)'\n');
        if (lf < 0)
        {
            return null;
        }

        var line = Encoding.Latin1.GetString(data[..lf]).TrimEnd('\r');
        var rest = data[(lf + 1)..].ToArray();
        _pending.SetLength(0);
        _pending.Write(rest);
        return line;
    }

    /// <summary>True when the server closes the connection (EOF or reset) within the timeout, with no more data.</summary>
    public async Task<bool> IsClosedAsync(TimeSpan? timeout = null)
    {
        try
        {
            var line = await ReadLineAsync(timeout ?? TimeSpan.FromSeconds(5));
            return line is null;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Reads everything until the server closes; returns the text received.</summary>
    public async Task<string> ReadToEndAsync(TimeSpan? timeout = null)
    {
        var text = new StringBuilder();
        while (true)
        {
            var line = await ReadLineAsync(timeout);
            if (line is null)
            {
                return text.ToString();
            }

            text.Append(line).Append("\r\n");
        }
    }

    /// <summary>EHLO and read the multiline reply.</summary>
    public Task<string> EhloAsync(string name = "client.test") => CommandAsync("EHLO " + name);

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        _pending.Dispose();
        return ValueTask.CompletedTask;
    }
}
