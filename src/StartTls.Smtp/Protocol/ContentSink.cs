using System.Buffers;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> over the store's own read buffer, so that decoded content lands where the store
/// asked for it with no copy in between. The caller bounds the input so that the output always fits.
/// </summary>
internal sealed class ContentSink : IBufferWriter<byte>
{
    private Memory<byte> _destination;

    /// <summary>Bytes written since the last <see cref="Reset"/>.</summary>
    public int Written { get; private set; }

    /// <summary>Starts writing at the beginning of <paramref name="destination"/>.</summary>
    public void Reset(Memory<byte> destination)
    {
        _destination = destination;
        Written = 0;
    }

    /// <summary>Forgets the destination, so the sink does not keep the store's buffer alive.</summary>
    public void Clear() => Reset(Memory<byte>.Empty);

    public void Advance(int count) => Written += count;

    public Memory<byte> GetMemory(int sizeHint = 0) => Available(sizeHint);

    public Span<byte> GetSpan(int sizeHint = 0) => Available(sizeHint).Span;

    private Memory<byte> Available(int sizeHint)
    {
        var free = _destination[Written..];
        if (free.Length < Math.Max(sizeHint, 1))
        {
            // The caller sized the input for the space left; running out is a bug, not bad input.
            throw new InvalidOperationException("The content sink is full.");
        }

        return free;
    }
}
