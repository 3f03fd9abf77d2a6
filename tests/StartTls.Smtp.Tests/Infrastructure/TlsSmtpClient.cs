using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// The SMTP session inside TLS, over a raw client's socket: handshake (validating against the test CA), then exact
/// writes and reply reads with timeouts. A read that times out stays pending, so "silence for N seconds" checks
/// never break the TLS stream.
/// </summary>
public sealed class TlsSmtpClient : IAsyncDisposable
{
    private readonly SslStream _ssl;
    private readonly byte[] _buffer = new byte[16 * 1024];
    private readonly MemoryStream _pending = new();
    private Task<int>? _read;

    private TlsSmtpClient(SslStream ssl) => _ssl = ssl;

    public SslStream Stream => _ssl;

    /// <summary>The certificate the server presented.</summary>
    public X509Certificate2 ServerCertificate => X509CertificateLoader.LoadCertificate(_ssl.RemoteCertificate!.GetRawCertData());

    /// <summary>
    /// Handshakes as a client over <paramref name="socket"/> (the socket stays open on dispose of this object only
    /// if the caller keeps it). <paramref name="serverName"/> is sent as SNI (empty: no SNI); the certificate must
    /// chain to the test CA and match <paramref name="expectedName"/> (default: <paramref name="serverName"/> or mx.test).
    /// </summary>
    public static Task<TlsSmtpClient> HandshakeAsync(Socket socket, string serverName = "mx.test", string? expectedName = null,
        SslProtocols protocols = SslProtocols.Tls12 | SslProtocols.Tls13, X509Certificate2? clientCertificate = null)
        => HandshakeAsync(new NetworkStream(socket, ownsSocket: false), serverName, expectedName, protocols, clientCertificate);

    public static async Task<TlsSmtpClient> HandshakeAsync(Stream transport, string serverName = "mx.test", string? expectedName = null,
        SslProtocols protocols = SslProtocols.Tls12 | SslProtocols.Tls13, X509Certificate2? clientCertificate = null)
    {
        var name = expectedName ?? (serverName.Length == 0 ? "mx.test" : serverName);
        var ssl = new SslStream(transport, leaveInnerStreamOpen: false, (_, cert, _, _) => TestCertificates.ValidateAgainstCa(cert, name));
        try
        {
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = serverName,
                EnabledSslProtocols = protocols,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                LocalCertificateSelectionCallback = clientCertificate is null ? null : (_, _, _, _, _) => clientCertificate,
            }).WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }

        return new TlsSmtpClient(ssl);
    }

    public async Task SendAsync(string text)
    {
        await _ssl.WriteAsync(Encoding.Latin1.GetBytes(text));
        await _ssl.FlushAsync();
    }

    public async Task<string> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    public Task<string> EhloAsync(string name = "client.test") => CommandAsync("EHLO " + name);

    /// <summary>Reads one complete (possibly multiline) reply; lines joined by CRLF, without the last CRLF.</summary>
    public Task<string> ReadReplyAsync(TimeSpan? timeout = null) => SmtpReplyReader.ReadReplyAsync(() => ReadLineAsync(timeout), "TLS connection");

    /// <summary>One CRLF line, or null at end of stream.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? RawSmtpClient.DefaultTimeout);
        while (true)
        {
            var data = _pending.GetBuffer().AsSpan(0, (int)_pending.Length);
            var lf = data.IndexOf((byte)'\n');
            if (lf >= 0)
            {
                var line = Encoding.Latin1.GetString(data[..lf]).TrimEnd('\r');
                var rest = data[(lf + 1)..].ToArray();
                _pending.SetLength(0);
                _pending.Write(rest);
                return line;
            }

            var remaining = deadline - DateTime.UtcNow;
            var read = await ReceiveAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero)
                ?? throw new TimeoutException("No complete line inside TLS within the timeout; pending: " + Encoding.Latin1.GetString(_pending.GetBuffer(), 0, (int)_pending.Length));
            if (read == 0)
            {
                return null;
            }
        }
    }

    /// <summary>True when nothing at all arrives within <paramref name="duration"/> (and the connection stays open).</summary>
    public async Task<bool> IsSilentForAsync(TimeSpan duration)
    {
        if (_pending.Length > 0)
        {
            return false;
        }

        var read = await ReceiveAsync(duration);
        return read is null;
    }

    /// <summary>True when the server closes (close_notify, FIN or reset) within the timeout with no more data.</summary>
    public async Task<bool> IsClosedAsync(TimeSpan? timeout = null)
    {
        try
        {
            return await ReadLineAsync(timeout ?? TimeSpan.FromSeconds(5)) is null;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>
    /// Waits for the end of the TLS stream and tells how it ended: true for a clean close (close_notify, the read
    /// returns 0), false for a truncation (the transport closed without close_notify, the read throws).
    /// </summary>
    public async Task<bool> EndsWithCloseNotifyAsync(TimeSpan? timeout = null)
    {
        _pending.Length.Should().Be(0, "no more data was expected");
        _read ??= _ssl.ReadAsync(_buffer).AsTask();
        var read = _read;
        _read = null;
        try
        {
            var count = await read.WaitAsync(timeout ?? TimeSpan.FromSeconds(5));
            count.Should().Be(0, "no more data was expected: " + Encoding.Latin1.GetString(_buffer, 0, count));
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>Bytes read, 0 at end of stream, null when the timeout passed first (the read stays pending).</summary>
    private async Task<int?> ReceiveAsync(TimeSpan timeout)
    {
        _read ??= _ssl.ReadAsync(_buffer).AsTask();
        if (await Task.WhenAny(_read, Task.Delay(timeout)) != _read)
        {
            return null;
        }

        var read = _read;
        _read = null;
        int count;
        try
        {
            count = await read;
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            count = 0;
        }

        _pending.Write(_buffer, 0, count);
        return count;
    }

    public async ValueTask DisposeAsync()
    {
        await _ssl.DisposeAsync();
        _pending.Dispose();
    }
}
