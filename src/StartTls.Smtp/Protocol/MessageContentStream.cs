using System.Buffers;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// The read-only stream a message store reads the content from. Each read asks the <see cref="MessageReceiver"/> to
/// pull the next piece straight off the connection's input and decode it into the caller's buffer, so a message costs
/// no intermediate pipe and no thread hop, and a slow store slows the client down (backpressure) instead of growing
/// memory.
/// </summary>
/// <remarks>
/// It remembers whether the store read to the end, so the server can refuse to acknowledge a message the store did
/// not take whole. Reads into buffers smaller than <see cref="DirectThreshold"/> go through a small carry buffer,
/// because decoding may produce a few more bytes than it consumes.
/// </remarks>
internal sealed class MessageContentStream : Stream
{
    /// <summary>Reads into a buffer at least this large are decoded in place.</summary>
    internal const int DirectThreshold = 64;

    private const int CarrySize = 256;

    private readonly MessageReceiver _receiver;
    private byte[]? _carry;
    private int _carryOffset;
    private int _carryCount;
    private long _position;

    public MessageContentStream(MessageReceiver receiver) => _receiver = receiver;

    /// <summary>True once the store has been given every byte of the content.</summary>
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

    /// <summary>Makes the stream ready for the next message on the same connection.</summary>
    public void Reset()
    {
        ReachedEnd = false;
        _position = 0;
        _carryOffset = 0;
        _carryCount = 0;
        if (_carry is not null)
        {
            ArrayPool<byte>.Shared.Return(_carry);
            _carry = null;
        }
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (buffer.Length == 0)
        {
            return 0;
        }

        if (_carryCount > 0)
        {
            return TakeCarry(buffer.Span);
        }

        while (true)
        {
            if (_receiver.ContentCompleted)
            {
                ReachedEnd = true;
                return 0;
            }

            if (buffer.Length < DirectThreshold)
            {
                _carry ??= ArrayPool<byte>.Shared.Rent(CarrySize);
                _carryOffset = 0;
                _carryCount = await _receiver.ReadContentAsync(_carry, cancellationToken).ConfigureAwait(false);
                if (_carryCount > 0)
                {
                    return TakeCarry(buffer.Span);
                }

                continue;
            }

            var read = await _receiver.ReadContentAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read > 0)
            {
                _position += read;
                if (_carryCount == 0 && _receiver.ContentCompleted)
                {
                    ReachedEnd = true;
                }

                return read;
            }
        }
    }

    private int TakeCarry(Span<byte> destination)
    {
        var count = Math.Min(destination.Length, _carryCount);
        _carry.AsSpan(_carryOffset, count).CopyTo(destination);
        _carryOffset += count;
        _carryCount -= count;
        _position += count;
        if (_carryCount == 0 && _receiver.ContentCompleted)
        {
            ReachedEnd = true;
        }

        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    // A store that reads synchronously blocks its thread until the network delivers; the read completes on another
    // thread-pool thread, so this cannot deadlock.
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override int Read(Span<byte> buffer)
    {
        var rented = ArrayPool<byte>.Shared.Rent(buffer.Length);
        try
        {
            var read = Read(rented, 0, buffer.Length);
            rented.AsSpan(0, read).CopyTo(buffer);
            return read;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
