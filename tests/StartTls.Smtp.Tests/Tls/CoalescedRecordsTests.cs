using System.Net.Sockets;
using System.Security.Authentication;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Tls;

/// <summary>
/// After the handshake the server reads TLS records straight from the socket, once its plaintext pipe has handed over
/// every byte it still held. A client whose last handshake flight and first commands arrive in one TCP segment must
/// lose nothing in that switch.
/// </summary>
public sealed class CoalescedRecordsTests
{
    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task Finished_and_the_first_commands_in_one_segment_are_all_served(SslProtocols protocol)
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate());
        await using var raw = await server.ConnectAsync();
        await raw.EhloAsync();
        (await raw.CommandAsync("STARTTLS")).Should().Be("220 2.0.0 Ready to start TLS");

        var coalescing = new SendOnReadStream(new NetworkStream(raw.Socket, ownsSocket: false));
        await using var tls = await TlsSmtpClient.HandshakeAsync(coalescing, protocols: protocol);

        // Held back with the client's Finished: both go out in one write when the client first reads.
        await tls.SendAsync("EHLO coalesced.test\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n");
        coalescing.Sends.Should().BeLessThanOrEqualTo(protocol == SslProtocols.Tls13 ? 1 : 2, "the test needs the last flight held back");
        (await tls.ReadReplyAsync()).Should().StartWith("250-mx.test");
        (await tls.ReadReplyAsync()).Should().StartWith("250 2.1.0");
        (await tls.ReadReplyAsync()).Should().StartWith("250 2.1.5");
        (await tls.ReadReplyAsync()).Should().StartWith("354");
        (await tls.CommandAsync("Subject: coalesced\r\n\r\nbody\r\n.")).Should().StartWith("250 2.0.0");
        (await tls.CommandAsync("QUIT")).Should().StartWith("221");

        var message = server.Messages.Messages.Should().ContainSingle().Subject;
        message.GetContentAsString().Should().EndWith("Subject: coalesced\r\n\r\nbody\r\n");
    }

    /// <summary>Holds every write until the next read, then sends them all in one write.</summary>
    private sealed class SendOnReadStream(Stream inner) : DelegatingStream(inner)
    {
        private readonly MemoryStream _held = new();

        public int Sends { get; private set; }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_held.Length > 0)
            {
                Sends++;
                await Inner.WriteAsync(_held.GetBuffer().AsMemory(0, (int)_held.Length), cancellationToken);
                _held.SetLength(0);
            }

            return await Inner.ReadAsync(buffer, cancellationToken);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _held.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }
    }
}
