using System.Buffers;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// Reads DATA content as it streams in: undoes dot-stuffing (the first line too), recognises only
/// <c>&lt;CRLF&gt;.&lt;CRLF&gt;</c> as the end, refuses or normalises bare CR and LF, refuses NUL, and enforces the
/// line and message size limits without holding any line. The state survives between calls, so the input may be
/// split at any byte.
/// </summary>
/// <remarks>
/// <para>
/// The output is the message as delivered: CRLF line endings, the final CRLF kept, the terminator's dot dropped.
/// Once a limit is exceeded the reader stops writing but keeps parsing, so it still finds the terminator and the
/// client gets its reply after the final dot (RFC 1870 §6.3).
/// </para>
/// <para>
/// When normalising, a bare LF starts a line for dot-unstuffing too, because the clients that send bare LF treat it
/// as a line ending and stuff the line after it (Python's <c>smtplib</c> given bytes sends <c>.x</c> there as
/// <c>..x</c>); Postfix's <c>smtpd_forbid_bare_newline = normalize</c> reads it the same way. Such a line can still
/// never end the message: a lone dot after a bare LF is kept as the text line <c>.</c>. A bare CR does not start a
/// line for unstuffing: those clients do not stuff after it (and Postfix does not read it as a line ending), so the
/// line after it is stored as it came.
/// </para>
/// </remarks>
internal struct DataReader
{
    private static readonly SearchValues<byte> Specials = SearchValues.Create("\r\n\0"u8);

    private readonly long _maxSize;
    private readonly int _maxLineContent;
    private readonly bool _normalize;
    private State _state;
    private int _lineLength;

    public DataReader(long maxMessageSize, int maxTextLineLength, BareLineEndingHandling bareLineEndings)
    {
        _maxSize = maxMessageSize;
        _maxLineContent = maxTextLineLength - 2;
        _normalize = bareLineEndings == BareLineEndingHandling.Normalize;
        _state = State.LineStart;
    }

    private enum State : byte
    {
        /// <summary>At the start of a line that follows a CRLF (or of the content).</summary>
        LineStart,

        /// <summary>At the start of a line that follows a normalised bare LF: unstuffed, but never the end.</summary>
        LooseLineStart,

        /// <summary>At the start of a line that follows a normalised bare CR: stored as it is.</summary>
        SoftLineStart,
        Dot,
        DotCr,
        LooseDot,
        LooseDotCr,
        InLine,
        Cr,
    }

    /// <summary>Octets of content produced so far (after dot-unstuffing), counted even when not written.</summary>
    public long Size { get; private set; }

    /// <summary>True once the content grew over the size limit.</summary>
    public bool SizeExceeded { get; private set; }

    /// <summary>True once a line grew over the text line limit.</summary>
    public bool LineTooLong { get; private set; }

    /// <summary>
    /// Processes <paramref name="input"/>. Content goes to <paramref name="output"/> unless it is
    /// <see langword="null"/> or a limit has been exceeded. <paramref name="consumed"/> is where the caller resumes:
    /// just after the terminator, at the offending byte, or at the end.
    /// </summary>
    public DataStatus Process(in ReadOnlySequence<byte> input, IBufferWriter<byte>? output, out SequencePosition consumed)
    {
        long offset = 0;
        foreach (var segment in input)
        {
            var status = Process(segment.Span, output, out var used);
            offset += used;
            if (status != DataStatus.NeedMoreData)
            {
                consumed = input.GetPosition(offset);
                return status;
            }
        }

        consumed = input.End;
        return DataStatus.NeedMoreData;
    }

    /// <summary>Processes one contiguous span; <paramref name="used"/> counts the bytes taken.</summary>
    public DataStatus Process(ReadOnlySpan<byte> span, IBufferWriter<byte>? output, out int used)
    {
        var i = 0;
        while (i < span.Length)
        {
            switch (_state)
            {
                case State.LineStart:
                    _lineLength = 0;
                    if (span[i] == (byte)'.')
                    {
                        // The limit does not count "the leading dot duplicated for transparency" (RFC 5321 §4.5.3.1.6).
                        _state = State.Dot;
                        i++;
                    }
                    else
                    {
                        _state = State.InLine;
                    }

                    break;

                case State.LooseLineStart:
                    _lineLength = 0;
                    if (span[i] == (byte)'.')
                    {
                        _state = State.LooseDot;
                        i++;
                    }
                    else
                    {
                        _state = State.InLine;
                    }

                    break;

                case State.SoftLineStart:
                    // After a normalised bare CR there is no dot handling: the clients that send one do not stuff
                    // after it, and such a line can never end DATA.
                    _lineLength = 0;
                    _state = State.InLine;
                    break;

                case State.Dot:
                    if (span[i] == (byte)'\r')
                    {
                        _state = State.DotCr;
                        i++;
                    }
                    else if (span[i] == (byte)'\n')
                    {
                        // ".<LF>": not a terminator. Keep the lone dot as content, then treat the LF as bare.
                        if (!_normalize)
                        {
                            used = i;
                            return DataStatus.BareLineEnding;
                        }

                        Emit(output, "."u8);
                        _lineLength = 1;
                        _state = State.InLine;
                    }
                    else
                    {
                        // A leading dot followed by more text was stuffing: drop it (RFC 5321 §4.5.2).
                        _state = State.InLine;
                    }

                    break;

                case State.DotCr:
                    if (span[i] == (byte)'\n')
                    {
                        _state = State.LineStart;
                        used = i + 1;
                        return DataStatus.Completed;
                    }

                    if (!_normalize)
                    {
                        used = i;
                        return DataStatus.BareLineEnding;
                    }

                    // ".<CR>x": a dot line ended by a bare CR; keep it as text.
                    Emit(output, ".\r\n"u8);
                    _state = State.SoftLineStart;
                    break;

                case State.LooseDot:
                    // Only reached when normalising: a line that starts after a bare LF begins with a dot.
                    if (span[i] == (byte)'\r')
                    {
                        _state = State.LooseDotCr;
                        i++;
                    }
                    else if (span[i] == (byte)'\n')
                    {
                        // "<LF>.<LF>": a lone dot between bare line endings is text, as after a CRLF.
                        Emit(output, "."u8);
                        _lineLength = 1;
                        _state = State.InLine;
                    }
                    else
                    {
                        // The client stuffed this line as it stuffs lines after a CRLF: drop the dot.
                        _state = State.InLine;
                    }

                    break;

                case State.LooseDotCr:
                    // "<LF>.<CR><LF>" is never the end, only <CRLF>.<CRLF> is (SMTP smuggling, CVE-2023-51764).
                    // A client that stuffs would have sent a content line "." as "..", so this is a botched or
                    // smuggled terminator: keep its dot as the text line ".", so nothing the client sent is lost
                    // and the attempt stays visible in the stored message. Postfix drops this line instead.
                    Emit(output, ".\r\n"u8);
                    if (span[i] == (byte)'\n')
                    {
                        _state = State.LineStart;
                        i++;
                    }
                    else
                    {
                        _state = State.SoftLineStart;
                    }

                    break;

                case State.InLine:
                {
                    // One run covers this line's text and every following whole line that needs no attention (ends in
                    // CRLF, next line not starting with a dot), so a clean body is emitted in one write per call.
                    var end = ScanCleanRun(span, i);
                    if (end > i)
                    {
                        Emit(output, span[i..end]);
                        i = end;
                    }

                    if (i == span.Length)
                    {
                        break;
                    }

                    var b = span[i];
                    if (b == (byte)'\r')
                    {
                        _state = State.Cr;
                        i++;
                    }
                    else if (b == (byte)'\n')
                    {
                        if (!_normalize)
                        {
                            used = i;
                            return DataStatus.BareLineEnding;
                        }

                        Emit(output, "\r\n"u8);
                        _state = State.LooseLineStart;
                        i++;
                    }
                    else
                    {
                        used = i;
                        return DataStatus.Nul;
                    }

                    break;
                }

                case State.Cr:
                    if (span[i] == (byte)'\n')
                    {
                        Emit(output, "\r\n"u8);
                        _state = State.LineStart;
                        i++;
                    }
                    else
                    {
                        if (!_normalize)
                        {
                            used = i;
                            return DataStatus.BareLineEnding;
                        }

                        Emit(output, "\r\n"u8);
                        _state = State.SoftLineStart;
                    }

                    break;
            }
        }

        used = span.Length;
        return DataStatus.NeedMoreData;
    }

    /// <summary>
    /// Returns where the clean run starting at <paramref name="start"/> ends: at the first CR, LF or NUL that is not
    /// part of a CRLF followed (in this span) by a line that does not start with a dot, or at the end of the span.
    /// Keeps the line length (and <see cref="LineTooLong"/>) up to date.
    /// </summary>
    private int ScanCleanRun(ReadOnlySpan<byte> span, int start)
    {
        var j = start;
        while (true)
        {
            var special = span[j..].IndexOfAny(Specials);
            if (special < 0)
            {
                AddLineLength(span.Length - j);
                return span.Length;
            }

            AddLineLength(special);
            j += special;
            if (span[j] == (byte)'\r' && j + 2 < span.Length && span[j + 1] == (byte)'\n' && span[j + 2] != (byte)'.')
            {
                j += 2;
                _lineLength = 0;
                continue;
            }

            return j;
        }
    }

    private void AddLineLength(int count)
    {
        _lineLength += count;
        if (_lineLength > _maxLineContent)
        {
            LineTooLong = true;
        }
    }

    private void Emit(IBufferWriter<byte>? output, ReadOnlySpan<byte> bytes)
    {
        Size += bytes.Length;
        if (Size > _maxSize)
        {
            SizeExceeded = true;
        }

        if (output is not null && !SizeExceeded && !LineTooLong)
        {
            output.Write(bytes);
        }
    }
}
