using System.Buffers;

namespace StartTls.Smtp.Protocol;

/// <summary>What <see cref="CommandLineReader.TryRead"/> found at the front of the buffer.</summary>
internal enum LineStatus
{
    /// <summary>No complete line yet; read more.</summary>
    Incomplete,

    /// <summary>A complete CRLF-terminated line (returned without its CRLF).</summary>
    Line,

    /// <summary>A line longer than the limit was discarded up to and including its LF.</summary>
    TooLong,

    /// <summary>A LF without a CR before it: the framing cannot be trusted (RFC 5321 §2.3.8).</summary>
    BareLineFeed,

    /// <summary>A CR that is not followed by LF inside a line.</summary>
    BareCarriageReturn,
}

/// <summary>
/// Splits the command stream into CRLF lines with a hard length bound. A line that outgrows the bound is consumed and
/// dropped as it arrives, so the connection never holds more than the limit (plus one read) however long the line,
/// and the bytes after the over-long part are never executed as a command (docs/threat-model.md T26, T27).
/// </summary>
internal struct CommandLineReader
{
    private bool _discarding;

    /// <summary>True while the reader is dropping the rest of an over-long line.</summary>
    public readonly bool IsDiscarding => _discarding;

    /// <summary>Drops everything up to and including the next LF (a carried line outgrew the limit, <see cref="PartialLine"/>).</summary>
    public void Discard() => _discarding = true;

    /// <summary>
    /// Takes one line from the front of <paramref name="buffer"/> and slices it off. <paramref name="maxLength"/>
    /// counts the CRLF.
    /// </summary>
    public LineStatus TryRead(ref ReadOnlySequence<byte> buffer, int maxLength, out ReadOnlySequence<byte> line)
    {
        line = default;
        if (_discarding)
        {
            var lf = buffer.PositionOf((byte)'\n');
            if (lf is null)
            {
                buffer = buffer.Slice(buffer.End);
                return LineStatus.Incomplete;
            }

            buffer = buffer.Slice(buffer.GetPosition(1, lf.Value));
            _discarding = false;
            return LineStatus.TooLong;
        }

        // Look for the LF only within the limit, so a flood without LF costs one bounded scan.
        var window = buffer.Length > maxLength ? buffer.Slice(0, maxLength) : buffer;
        var end = window.PositionOf((byte)'\n');
        if (end is null)
        {
            if (buffer.Length >= maxLength)
            {
                // Over the limit with no LF in sight: drop what we have and keep dropping until the LF.
                _discarding = true;
                return TryRead(ref buffer, maxLength, out line);
            }

            return LineStatus.Incomplete;
        }

        var withoutLf = buffer.Slice(0, end.Value);
        buffer = buffer.Slice(buffer.GetPosition(1, end.Value));
        var length = withoutLf.Length;
        if (length == 0 || LastByte(withoutLf) != (byte)'\r')
        {
            return LineStatus.BareLineFeed;
        }

        line = withoutLf.Slice(0, length - 1);
        return line.PositionOf((byte)'\r') is null ? LineStatus.Line : LineStatus.BareCarriageReturn;
    }

    private static byte LastByte(in ReadOnlySequence<byte> sequence)
    {
        if (sequence.IsSingleSegment)
        {
            return sequence.FirstSpan[^1];
        }

        return sequence.Slice(sequence.Length - 1).FirstSpan[0];
    }
}
