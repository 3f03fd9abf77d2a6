using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>What a raw socket received until the peer closed or the time ran out.</summary>
public sealed record WireCapture(byte[] Data, bool Closed, TimeSpan Elapsed)
{
    public string Text => Encoding.Latin1.GetString(Data);

    /// <summary>
    /// True when nothing SMTP-like came back: no bytes at all, or only TLS alert records (content type 0x15).
    /// </summary>
    public bool HasNoPlaintext => Data.Length == 0 || AlertDescriptions() is not null;

    /// <summary>The descriptions of the TLS alert records received, or null if anything else arrived.</summary>
    public IReadOnlyList<byte>? AlertDescriptions()
    {
        var result = new List<byte>();
        var span = Data.AsSpan();
        while (span.Length > 0)
        {
            if (span.Length < 5 || span[0] != 0x15 || span[1] != 0x03)
            {
                return null;
            }

            var length = (span[3] << 8) | span[4];
            if (span.Length < 5 + length)
            {
                return null;
            }

            // A plaintext alert has 2 bytes (level, description); an encrypted one is longer and opaque.
            if (length == 2)
            {
                result.Add(span[6]);
            }

            span = span[(5 + length)..];
        }

        return result;
    }

    public override string ToString() => $"{Data.Length} bytes ({Convert.ToHexString(Data.AsSpan(0, Math.Min(Data.Length, 64)))} \"{Text.ReplaceLineEndings("\\n")}\"), closed={Closed}, after {Elapsed.TotalMilliseconds:F0} ms";
}

public static class Wire
{
    /// <summary>Reads the raw socket until the peer closes (FIN or reset) or <paramref name="timeout"/> passes.</summary>
    public static async Task<WireCapture> ReceiveUntilClosedAsync(Socket socket, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        var data = new MemoryStream();
        var buffer = new byte[8192];
        using var cts = new CancellationTokenSource(timeout);
        while (true)
        {
            int read;
            try
            {
                read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            }
            catch (OperationCanceledException)
            {
                return new WireCapture(data.ToArray(), false, watch.Elapsed);
            }
            catch (SocketException)
            {
                read = 0;
            }

            if (read == 0)
            {
                return new WireCapture(data.ToArray(), true, watch.Elapsed);
            }

            data.Write(buffer, 0, read);
        }
    }

    /// <summary>Reads raw bytes until <paramref name="count"/> CRLF-terminated lines have arrived, then waits <paramref name="quiet"/> for anything more.</summary>
    public static async Task<byte[]> ReceiveLinesExactlyAsync(Socket socket, int count, TimeSpan quiet)
    {
        var data = new MemoryStream();
        var buffer = new byte[8192];
        using (var cts = new CancellationTokenSource(RawSmtpClient.DefaultTimeout))
        {
            while (data.ToArray().Count(b => b == (byte)'\n') < count)
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
                if (read == 0)
                {
                    break;
                }

                data.Write(buffer, 0, read);
            }
        }

        using (var quietCts = new CancellationTokenSource(quiet))
        {
            try
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, quietCts.Token);
                data.Write(buffer, 0, read);
            }
            catch (OperationCanceledException)
            {
            }
        }

        return data.ToArray();
    }

    /// <summary>Sends bytes, ignoring a reset or closed connection (the server may already have closed).</summary>
    public static async Task TrySendAsync(Socket socket, byte[] bytes)
    {
        try
        {
            await socket.SendAsync(bytes, SocketFlags.None);
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    public static byte[] Ascii(string text) => Encoding.Latin1.GetBytes(text);
}
