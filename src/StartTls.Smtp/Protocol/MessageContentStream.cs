using System.Buffers;
using System.IO.Pipelines;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// The read-only stream a message store reads the content from. It remembers whether the store read to the end,
/// so the server can refuse to acknowledge a message the store did not take whole.
/// </summary>
internal sealed class MessageContentStream : Stream
{
    private readonly PipeReader _reader;
    private long _position;

    public MessageContentStream(PipeReader reader) => _reader = reader;

    /// <summary>Makes the stream ready for the next message on the same (reset) pipe.</summary>
    public void Reset()
    {
        ReachedEnd = false;
        _position = 0;
    }

    /// <summary>True once a read returned the end of the content.</summary>
    public bool ReachedEnd { get; private set; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0 || ReachedEnd)
        {
            return 0;
        }

        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var data = result.Buffer;
            if (!data.IsEmpty)
            {
                var count = (int)Math.Min(data.Length, buffer.Length);
                data.Slice(0, count).CopyTo(buffer.Span);
                _reader.AdvanceTo(data.GetPosition(count));
                _position += count;
                return count;
            }

            _reader.AdvanceTo(data.End);
            if (result.IsCompleted)
            {
                ReachedEnd = true;
                return 0;
            }

            if (result.IsCanceled)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // Stores run on the thread pool, never on the connection's loop, so blocking here cannot deadlock the writer.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override int Read(Span<byte> buffer)
    {
        var rented = System.Buffers.ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var read = Read(rented, 0, buffer.Length);
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
