using System.Buffers;

namespace StartTls.Smtp.Benchmarks.Infrastructure;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> that hands out the same scratch array every time and only counts what was
/// written: the cost of the producer, without the cost of keeping its output.
/// </summary>
internal sealed class NullBufferWriter : IBufferWriter<byte>
{
    private readonly byte[] _scratch;

    public NullBufferWriter(int scratchSize = 16 * 1024) => _scratch = new byte[scratchSize];

    /// <summary>Bytes written since the last <see cref="Reset"/>.</summary>
    public long Written { get; private set; }

    public void Reset() => Written = 0;

    public void Advance(int count) => Written += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Check(sizeHint);
        return _scratch;
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Check(sizeHint);
        return _scratch;
    }

    private void Check(int sizeHint)
    {
        if (sizeHint > _scratch.Length)
        {
            throw new InvalidOperationException($"The writer was asked for {sizeHint} bytes; its scratch array holds {_scratch.Length}.");
        }
    }
}
