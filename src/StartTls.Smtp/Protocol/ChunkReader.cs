namespace StartTls.Smtp.Protocol;

/// <summary>
/// The framing of one BDAT message (RFC 3030 §2): the chunk being read, how many of its octets are still to come, and
/// the message size so far. A chunk is counted, never scanned: its octets are content whatever they are (a <c>.</c>
/// line, bare CR or LF, NUL, a command), and the byte after its last octet starts the next command
/// (docs/threat-model.md T45, T46).
/// </summary>
/// <remarks>
/// The size limit is checked when a chunk is announced, before any of its octets is read: a chunk that would take the
/// message over the limit is read and dropped, and the message fails with <c>552</c> at its end (T47).
/// </remarks>
internal struct ChunkReader
{
    private readonly long _maxSize;

    public ChunkReader(long maxMessageSize) => _maxSize = maxMessageSize;

    /// <summary>Octets of content announced so far within the limit, the current chunk's included.</summary>
    public long Size { get; private set; }

    /// <summary>True once the announced chunks add up to more than the size limit.</summary>
    public bool SizeExceeded { get; private set; }

    /// <summary>True from <see cref="Begin"/> until <see cref="End"/>: a chunk is being read.</summary>
    public bool InChunk { get; private set; }

    /// <summary>The octets of the current chunk not read yet.</summary>
    public long Remaining { get; private set; }

    /// <summary>True when the current (or the last ended) chunk was announced with <c>LAST</c>.</summary>
    public bool IsLast { get; private set; }

    /// <summary>Starts a chunk of <paramref name="size"/> octets (at most <see cref="BdatArguments.MaxChunkSize"/>).</summary>
    public void Begin(long size, bool last)
    {
        InChunk = true;
        Remaining = size;
        IsLast = last;
        if (SizeExceeded)
        {
            return;
        }

        // Compared by subtraction, so no sum can overflow whatever the limit.
        if (size > _maxSize - Size)
        {
            SizeExceeded = true;
        }
        else
        {
            Size += size;
        }
    }

    /// <summary>Counts <paramref name="count"/> octets of the current chunk as read.</summary>
    public void Consume(long count) => Remaining -= count;

    /// <summary>Ends the current chunk (all its octets read).</summary>
    public void End() => InChunk = false;
}
