using System.Buffers.Binary;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// Real TLS ClientHello records for the raw-socket cutover tests: captured from an <see cref="SslStream"/> client
/// (the first record it writes), or built by hand for versions and cipher lists .NET would refuse to send.
/// </summary>
public static class ClientHello
{
    private static readonly Lazy<Task<byte[]>> Modern = new(() => CaptureAsync("mx.test"));

    /// <summary>A TLS 1.2/1.3 ClientHello for mx.test, captured once from SslStream.</summary>
    public static Task<byte[]> ModernAsync() => Modern.Value;

    /// <summary>Runs an SslStream client over a stream that records its first write and then reports end of stream.</summary>
    public static async Task<byte[]> CaptureAsync(string? targetHost, SslProtocols protocols = SslProtocols.Tls12 | SslProtocols.Tls13)
    {
        var capture = new CaptureStream();
        await using var ssl = new SslStream(capture, leaveInnerStreamOpen: false, (_, _, _, _) => true);
        var handshake = ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
        {
            TargetHost = targetHost ?? string.Empty,
            EnabledSslProtocols = protocols,
            CertificateRevocationCheckMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck,
        });
        var written = await capture.FirstWrite.Task.WaitAsync(TimeSpan.FromSeconds(10));
        capture.EndOfStream.TrySetResult();
        try
        {
            await handshake.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (Exception ex) when (ex is IOException or AuthenticationException or TimeoutException)
        {
            // Expected: the "server" closed before answering.
        }

        written[0].Should().Be(0x16, "SslStream's first record is a handshake record");
        var length = BinaryPrimitives.ReadUInt16BigEndian(written.AsSpan(3, 2));
        return written.AsSpan(0, 5 + length).ToArray();
    }

    /// <summary>
    /// Builds a ClientHello record by hand (RFC 5246 §7.4.1.2): the given legacy version and cipher suites, with SNI,
    /// supported_groups (x25519, P-256), ec_point_formats and signature_algorithms, and no supported_versions, so
    /// the version offered is exactly <paramref name="version"/>.
    /// </summary>
    /// <param name="version">0x0301 TLS 1.0, 0x0302 TLS 1.1, 0x0303 TLS 1.2.</param>
    /// <param name="cipherSuites">IANA cipher suite numbers, TLS_FALLBACK_SCSV is 0x5600.</param>
    /// <param name="serverName">The SNI name, or null for none.</param>
    public static byte[] Build(ushort version, ushort[] cipherSuites, string? serverName = "mx.test")
    {
        var extensions = new List<byte>();
        if (serverName is not null)
        {
            var name = Encoding.ASCII.GetBytes(serverName);
            var entry = new List<byte> { 0 };
            entry.AddRange(U16(name.Length));
            entry.AddRange(name);
            var list = new List<byte>();
            list.AddRange(U16(entry.Count));
            list.AddRange(entry);
            AddExtension(extensions, 0x0000, list);
        }

        AddExtension(extensions, 0x000a, [0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]); // supported_groups: x25519, secp256r1
        AddExtension(extensions, 0x000b, [0x01, 0x00]); // ec_point_formats: uncompressed
        AddExtension(extensions, 0x000d, [0x00, 0x0a, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01, 0x02, 0x01, 0x02, 0x03]); // signature_algorithms
        AddExtension(extensions, 0xff01, [0x00]); // renegotiation_info (empty)

        var body = new List<byte>();
        body.AddRange(U16(version));
        body.AddRange(RandomNumberGenerator.GetBytes(32));
        body.Add(0); // session_id
        body.AddRange(U16(cipherSuites.Length * 2));
        foreach (var suite in cipherSuites)
        {
            body.AddRange(U16(suite));
        }

        body.Add(1); // compression methods
        body.Add(0);
        body.AddRange(U16(extensions.Count));
        body.AddRange(extensions);

        var handshake = new List<byte> { 0x01, (byte)(body.Count >> 16), (byte)(body.Count >> 8), (byte)body.Count };
        handshake.AddRange(body);
        var record = new List<byte> { 0x16, 0x03, 0x01 };
        record.AddRange(U16(handshake.Count));
        record.AddRange(handshake);
        return [.. record];
    }

    private static void AddExtension(List<byte> extensions, ushort type, IReadOnlyCollection<byte> data)
    {
        extensions.AddRange(U16(type));
        extensions.AddRange(U16(data.Count));
        extensions.AddRange(data);
    }

    private static byte[] U16(int value) => [(byte)(value >> 8), (byte)value];

    /// <summary>Records the first write; reads wait until <see cref="EndOfStream"/> and then return 0.</summary>
    private sealed class CaptureStream : Stream
    {
        public TaskCompletionSource<byte[]> FirstWrite { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource EndOfStream { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await EndOfStream.Task.WaitAsync(cancellationToken);
            return 0;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            FirstWrite.TrySetResult(buffer.ToArray());
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => FirstWrite.TrySetResult(buffer.AsSpan(offset, count).ToArray());

        public override void Flush()
        {
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
