using Xunit.Abstractions;
using System.Diagnostics;
using System.IO.Pipelines;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>
/// Floods without line endings: the server's memory stays bounded (serial, so other tests do not disturb the measure).
/// The flood goes through an in-memory pipe that never pushes back, one piece at a time, each taken in by the server
/// before the next: a server that held the line would hold it all in managed memory, and nothing is still in flight
/// when the memory is measured.
/// </summary>
[Collection(SerialTests.Name)]
public sealed class MemoryBoundTranscriptTests(ITestOutputHelper output)
{
    private const int Chunk = 64 * 1024;
    private const int TenMegabytes = 10 * 1024 * 1024;

    /// <summary>Holding the flood would cost at least 10 MB; allow a generous fraction for buffers, JIT and noise.</summary>
    private const long Allowed = 6 * 1024 * 1024;

    [Theory]
    [InlineData(1000L)]
    [InlineData(25L * 1024 * 1024)]
    public async Task A_10_MB_body_without_crlf_keeps_memory_bounded(long maxMessageSize)
    {
        await using var server = await TestServer.StartAsync(o => o.MaxMessageSize = maxMessageSize);
        await using var client = await ConnectAsync(server);
        await client.StartDataAsync();

        var growth = await FloodAsync(client);
        output.WriteLine($"managed growth {growth.Managed:N0} B, working set growth {growth.WorkingSet:N0} B");
        growth.Managed.Should().BeLessThan(Allowed, "the server must not hold the line ({0} bytes of managed growth)", growth.Managed);
        growth.WorkingSet.Should().BeLessThan(64L * 1024 * 1024, "loosely: the process working set must not grow with the flood");

        await client.SendAsync("\r\n.\r\n");
        (await client.ReadReplyAsync())[..9].Should().BeOneOf("500 5.5.2", "552 5.3.4");
        if (maxMessageSize > TenMegabytes)
        {
            (await client.CommandAsync("NOOP")).Should().StartWith("250 2.0.0");
        }

        server.Messages.Count.Should().Be(0);
    }

    [Fact]
    public async Task A_10_MB_command_line_without_crlf_keeps_memory_bounded_and_the_session_resynchronises()
    {
        await using var server = await TestServer.StartAsync(o => o.CommandTimeout = TimeSpan.FromSeconds(30));
        await using var client = await ConnectAsync(server);
        (await client.EhloAsync()).Should().StartWith("250");
        var growth = await FloodAsync(client);
        output.WriteLine($"managed growth {growth.Managed:N0} B, working set growth {growth.WorkingSet:N0} B");
        growth.Managed.Should().BeLessThan(Allowed, "a command line over the limit is discarded as it arrives");
        await client.SendAsync("\r\nNOOP\r\n");
        (await client.ReadReplyAsync()).Should().StartWith("500 5.5.2");
        (await client.ReadReplyAsync()).Should().StartWith("250 2.0.0");
    }

    /// <summary>A session whose input pipe never pauses the writer: only the server's reading bounds what it holds.</summary>
    private static async Task<PipeConnection> ConnectAsync(TestServer server)
    {
        var client = PipeConnection.Start(server.Server, toServer: new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false));
        (await client.ReadReplyAsync()).Should().StartWith("220 ");
        return client;
    }

    /// <summary>Sends 10 MB of 'A' from one reused buffer and measures growth at the end, with the flood still open.</summary>
    private static async Task<(long Managed, long WorkingSet)> FloodAsync(PipeConnection client)
    {
        var chunk = new byte[Chunk];
        chunk.AsSpan().Fill((byte)'A');
        await client.SendPieceAsync(chunk); // warm up buffers and code paths before the baseline
        var managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        using var process = Process.GetCurrentProcess();
        process.Refresh();
        var workingSetBefore = process.WorkingSet64;

        for (var sent = Chunk; sent < TenMegabytes; sent += Chunk)
        {
            await client.SendPieceAsync(chunk); // taken in by the server before the next
        }

        var managed = GC.GetTotalMemory(forceFullCollection: true) - managedBefore;
        process.Refresh();
        return (managed, process.WorkingSet64 - workingSetBefore);
    }
}
