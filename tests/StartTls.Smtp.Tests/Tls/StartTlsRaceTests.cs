using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using StartTls.Smtp.Tests.Infrastructure;
using Xunit.Abstractions;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// The cutover under timing pressure, 1,000 times each, in concurrent batches: T04 (STARTTLS then MAIL at once — the
/// MAIL never gets a 250) and T08 (a ClientHello sent the instant the 220 starts arriving — every handshake succeeds).
/// </summary>
/// <remarks>In the serial collection: 1,000 connections in batches of 50 would otherwise compete with every other test class for the machine, and the pressure on them is the point.</remarks>
[Collection(SerialTests.Name)]
public sealed class StartTlsRaceTests(ITestOutputHelper output)
{
    private const int Iterations = 1000;
    private const int Batch = 50;

    private static Task<TestServer> StartAsync() => TestServer.StartAsync(TlsTestKit.WithCertificate(o =>
    {
        o.MaxConnections = 1000;
        o.MaxConnectionsPerIp = 0;
        o.Tls.HandshakeTimeout = TimeSpan.FromSeconds(20);
    }));

    private static async Task RunInBatchesAsync(Func<int, Task> iteration)
    {
        for (var start = 0; start < Iterations; start += Batch)
        {
            await Task.WhenAll(Enumerable.Range(start, Math.Min(Batch, Iterations - start)).Select(i => Task.Run(() => iteration(i))));
        }
    }

    [Fact]
    public async Task T04_mail_sent_right_behind_starttls_never_gets_250()
    {
        await using var server = await StartAsync();
        var outcomes = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentQueue<string>();
        var watch = Stopwatch.StartNew();

        await RunInBatchesAsync(async i =>
        {
            await using var client = await server.ConnectAsync();
            await client.SendAsync("EHLO c.test\r\n");
            (await client.ReadReplyAsync()).Should().StartWith("250-");
            await client.SendAsync("STARTTLS\r\n");
            await client.SendAsync("MAIL FROM:<x@c.test>\r\n");
            var rest = await client.ReadToEndAsync(TimeSpan.FromSeconds(10));
            var lines = rest.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            if (lines.Any(l => l.StartsWith("250", StringComparison.Ordinal)) || lines.Length > 1)
            {
                failures.Enqueue($"#{i}: {rest}");
            }

            // Either both lines were in one read (554, no 220) or the MAIL came after the 220 and met the handshake.
            var kind = lines.Length == 0 ? "(nothing)" : lines[0][..3];
            outcomes.AddOrUpdate(kind, 1, (_, n) => n + 1);
        });

        output.WriteLine($"{Iterations} iterations in {watch.ElapsedMilliseconds} ms: " + string.Join(", ", outcomes.Select(kv => $"{kv.Key}×{kv.Value}")));
        failures.Should().BeEmpty();
        outcomes.Keys.Should().BeSubsetOf(["554", "220", "(nothing)"]);
        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task T08_client_hello_sent_the_instant_the_220_starts_arriving_always_handshakes()
    {
        await using var server = await StartAsync();
        var failures = new ConcurrentQueue<string>();
        var watch = Stopwatch.StartNew();

        await RunInBatchesAsync(async i =>
        {
            try
            {
                await using var client = await server.ConnectAsync();
                await client.SendAsync("EHLO c.test\r\n");
                (await client.ReadReplyAsync()).Should().StartWith("250-");
                await client.SendAsync("STARTTLS\r\n");

                // Wait for the first byte of the reply only, then start the handshake at once.
                var first = new byte[1];
                using (var cts = new CancellationTokenSource(RawSmtpClient.DefaultTimeout))
                {
                    (await client.Socket.ReceiveAsync(first, SocketFlags.None, cts.Token)).Should().Be(1);
                }

                first[0].Should().Be((byte)'2');
                var transport = new RestOfLineSkippingStream(new NetworkStream(client.Socket, ownsSocket: false));
                await using var tls = await TlsSmtpClient.HandshakeAsync(transport);
                transport.SkippedLine.Should().Be("20 2.0.0 Ready to start TLS\r\n");
                (await tls.EhloAsync()).Should().StartWith("250-mx.test");
            }
            catch (Exception ex)
            {
                failures.Enqueue($"#{i}: {ex.GetType().Name}: {ex.Message}");
            }
        });

        output.WriteLine($"{Iterations} handshakes in {watch.ElapsedMilliseconds} ms");
        failures.Should().BeEmpty();
    }

    [Theory]
    [InlineData(1)] // the 0x16 alone: the first-byte check must not consume it
    [InlineData(5)] // the record header alone
    public async Task T08_a_client_hello_arriving_in_pieces_after_the_220_still_handshakes(int firstPiece)
    {
        // In memory: the server has read the first piece and waits for more before the rest is written.
        await using var server = await StartAsync();
        await using var client = await PipeConnection.ConnectAsync(server);
        await client.EhloAsync();
        (await client.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");
        var transport = new SplitFirstWriteStream(client, firstPiece);
        await using var tls = await TlsSmtpClient.HandshakeAsync(transport);
        (await tls.EhloAsync()).Should().StartWith("250-mx.test");
    }

    /// <summary>Passes writes through; the first read skips the rest of the 220 line (byte by byte, so nothing after it is lost).</summary>
    private sealed class RestOfLineSkippingStream(Stream inner) : DelegatingStream(inner)
    {
        private readonly StringBuilder _skipped = new();
        private bool _skipping = true;

        public string SkippedLine => _skipped.ToString();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var one = new byte[1];
            while (_skipping)
            {
                if (await Inner.ReadAsync(one, cancellationToken) == 0)
                {
                    return 0;
                }

                _skipped.Append((char)one[0]);
                _skipping = one[0] != (byte)'\n';
            }

            return await Inner.ReadAsync(buffer, cancellationToken);
        }
    }

    /// <summary>Splits the first write (the ClientHello) in two pieces; the server has read the first before the second is sent.</summary>
    private sealed class SplitFirstWriteStream(PipeConnection connection, int firstPiece) : DelegatingStream(connection.AsStream())
    {
        private bool _split = true;

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_split && buffer.Length > firstPiece)
            {
                _split = false;
                await connection.SendPieceAsync(buffer[..firstPiece].ToArray());
                await connection.SendAsync(buffer[firstPiece..].ToArray());
                return;
            }

            await Inner.WriteAsync(buffer, cancellationToken);
        }
    }
}
