using System.Buffers;
using System.IO.Pipelines;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// Slow-loris connections, each holding the start of a command line: the input pipe's segments (16 KB, like the socket
/// reader's) go back to their pool while the connection waits for the rest; the line is carried in a buffer its size.
/// </summary>
public sealed class PartialLineMemoryTests
{
    private const int Connections = 500;
    private const int SegmentSize = 16 * 1024;

    [Fact]
    public async Task Connections_holding_a_partial_command_line_keep_no_pipe_segment_and_finish_the_line_later()
    {
        await using var server = await TestServer.StartAsync(o =>
        {
            o.MaxConnections = 4 * Connections;
            o.MaxConnectionsPerIp = 4 * Connections;
        });
        var pool = new CountingPool();
        var options = new PipeOptions(pool: pool, minimumSegmentSize: SegmentSize, useSynchronizationContext: false);
        var connections = new List<PipeConnection>(Connections);
        try
        {
            for (var i = 0; i < Connections; i++)
            {
                var connection = PipeConnection.Start(server.Server, toServer: options);
                connections.Add(connection);
                (await connection.ReadReplyAsync()).Should().StartWith("220 ");
                (await connection.EhloAsync()).Should().StartWith("250");
                await connection.SendPieceAsync("MAIL FROM:"); // 10 bytes, no LF: the server waits for the rest
                connection.IsSilent().Should().BeTrue();
            }

            pool.Rented.Should().BeGreaterThanOrEqualTo(2 * Connections, "the EHLO and the partial line were each written into a pool segment");
            pool.Outstanding.Should().Be(0, "{0} connections each waiting for the rest of a line hold no 16 KB segment", Connections);

            foreach (var connection in connections)
            {
                await connection.SendPieceAsync("<a@c");
                (await connection.CommandAsync(".test>")).Should().Be("250 2.1.0 Sender OK", "the carried line is completed by later pieces");
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>A memory pool that counts the bytes it has lent and not had back.</summary>
    private sealed class CountingPool : MemoryPool<byte>
    {
        private long _outstanding;
        private long _rented;

        public long Outstanding => Interlocked.Read(ref _outstanding);

        public long Rented => Interlocked.Read(ref _rented);

        public override int MaxBufferSize => 1024 * 1024;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
        {
            var size = minBufferSize <= 0 ? SegmentSize : minBufferSize;
            Interlocked.Add(ref _outstanding, size);
            Interlocked.Increment(ref _rented);
            return new Owner(this, new byte[size]);
        }

        protected override void Dispose(bool disposing)
        {
        }

        private sealed class Owner(CountingPool pool, byte[] array) : IMemoryOwner<byte>
        {
            private int _disposed;

            public Memory<byte> Memory => array;

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _disposed, 1) == 0)
                {
                    Interlocked.Add(ref pool._outstanding, -array.Length);
                }
            }
        }
    }
}
