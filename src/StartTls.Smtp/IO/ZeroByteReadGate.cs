using System.Net.Sockets;

namespace StartTls.Smtp.IO;

/// <summary>
/// Sits between a connection's stream and its <see cref="System.IO.Pipelines.PipeReader"/>, which issues a zero-byte
/// read before each real one so that an idle connection holds no buffer. That wait is worth a system call only while
/// the connection waits for a command; during DATA the content is expected at once and a buffer is rented anyway,
/// so in bulk mode the zero-byte read returns immediately and the real read goes straight to the socket.
/// </summary>
internal sealed class ZeroByteReadGate(Stream inner) : Stream
{
    private volatile bool _bulk;

    /// <summary>While set, zero-byte reads do not wait for data.</summary>
    public bool Bulk
    {
        get => _bulk;
        set => _bulk = value;
    }

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// While set, a zero-byte read that had to wait is confirmed with a poll of the socket. Under an SslStream a
    /// fifth of idle sessions saw the wait end with nothing to read, and the read after it then held a full buffer
    /// for the whole idle time; the check costs one system call per wait, so plaintext sessions (not affected) skip it.
    /// </summary>
    public bool ConfirmWakeups { get; set; }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!buffer.IsEmpty)
        {
            return inner.ReadAsync(buffer, cancellationToken);
        }

        if (_bulk)
        {
            return ValueTask.FromResult(0);
        }

        var wait = inner.ReadAsync(buffer, cancellationToken);
        return wait.IsCompleted || !ConfirmWakeups || inner is not NetworkStream network
            ? wait
            : WaitUntilReadableAsync(wait, network.Socket, cancellationToken);
    }

    private async ValueTask<int> WaitUntilReadableAsync(ValueTask<int> wait, Socket socket, CancellationToken cancellationToken)
    {
        await wait.ConfigureAwait(false);

        // Data, FIN and errors all make the socket readable; anything else was a stale readiness event.
        while (!socket.Poll(0, SelectMode.SelectRead))
        {
            await inner.ReadAsync(Memory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        }

        return 0;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => inner.WriteAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => inner.WriteAsync(buffer, offset, count, cancellationToken);

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
