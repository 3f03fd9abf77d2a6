using System.Buffers;
using System.Diagnostics;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// The start of a command line whose LF has not arrived yet, copied out of the input pipe so that the pipe can give its
/// read segment (16 KB) back while a slow client trickles the rest: the connection holds about what the line needs,
/// in a buffer rented from <see cref="ArrayPool{T}.Shared"/> and grown by doubling. A client whose lines arrive whole
/// never touches it. Holds no LF, and always less than the line limit (beyond it the line is being discarded).
/// </summary>
internal struct PartialLine
{
    private const int InitialSize = 16;

    private byte[]? _buffer;
    private int _length;

    /// <summary>True when no line is carried (the buffer, if any, was given back).</summary>
    public readonly bool IsEmpty => _length == 0;

    /// <summary>The bytes carried so far.</summary>
    public readonly ReadOnlySpan<byte> Span => _buffer.AsSpan(0, _length);

    /// <summary>Copies the whole of <paramref name="bytes"/> (the incomplete end of a read, no LF in it) into the carry.</summary>
    public void Append(in ReadOnlySequence<byte> bytes)
    {
        var needed = _length + (int)bytes.Length;
        if (_buffer is null || needed > _buffer.Length)
        {
            var grown = ArrayPool<byte>.Shared.Rent(Math.Max(needed, Math.Max(InitialSize, (_buffer?.Length ?? 0) * 2)));
            if (_buffer is not null)
            {
                _buffer.AsSpan(0, _length).CopyTo(grown);
                ArrayPool<byte>.Shared.Return(_buffer);
            }

            _buffer = grown;
        }

        bytes.CopyTo(_buffer.AsSpan(_length));
        _length = needed;
    }

    /// <summary>
    /// Continues the carried line with the new <paramref name="buffer"/>, as <see cref="CommandLineReader.TryRead"/>
    /// would have with the carry still in front of it: the line is complete when its LF comes within the limit
    /// (<paramref name="maxLength"/> counts the carry and the CRLF), it is discarded when the carry plus the new bytes
    /// reach the limit without one, and otherwise the new bytes join the carry. A complete line is returned as a view of
    /// the carry, valid until <see cref="Release"/>; only the bytes up to its LF are taken from <paramref name="buffer"/>.
    /// </summary>
    public LineStatus TryComplete(ref CommandLineReader lines, ref ReadOnlySequence<byte> buffer, int maxLength, out ReadOnlySequence<byte> line)
    {
        Debug.Assert(!IsEmpty && !lines.IsDiscarding && _length < maxLength, "A carried line is shorter than its limit.");

        // The carry holds no LF, so the LF must come within what the limit leaves of the new bytes.
        var room = maxLength - _length;
        var window = buffer.Length > room ? buffer.Slice(0, room) : buffer;
        var lf = window.PositionOf((byte)'\n');
        if (lf is null)
        {
            if (_length + buffer.Length >= maxLength)
            {
                // Over the limit with no LF in sight: drop the carry, and let the reader drop the rest up to the LF.
                Release();
                lines.Discard();
                return lines.TryRead(ref buffer, maxLength, out line);
            }

            Append(buffer);
            buffer = buffer.Slice(buffer.End);
            line = default;
            return LineStatus.Incomplete;
        }

        var end = buffer.GetPosition(1, lf.Value);
        Append(buffer.Slice(0, end));
        buffer = buffer.Slice(end);

        // Exactly one line ending in its LF, within the limit: the reader judges its CRLF, bare CR and bare LF, across
        // the boundary between carry and new bytes as within one read.
        var whole = new ReadOnlySequence<byte>(_buffer!, 0, _length);
        var status = lines.TryRead(ref whole, maxLength, out line);
        Debug.Assert(whole.IsEmpty && status is not (LineStatus.Incomplete or LineStatus.TooLong), "The carry completes exactly one line.");
        return status;
    }

    /// <summary>Forgets the carried bytes and gives the buffer back (after its line ran, at STARTTLS, at the end of the session).</summary>
    public void Release()
    {
        var buffer = _buffer;
        _buffer = null;
        _length = 0;
        if (buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
