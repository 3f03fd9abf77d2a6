using System.Buffers;
using System.IO.Pipelines;
using System.Runtime.CompilerServices;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// BDAT (RFC 3030 §2): the chunks of one message flow into the same <see cref="MessageContentStream"/> as DATA
/// content, so the store sees one stream spanning them all and nothing is buffered beyond one read. Between chunks the
/// receiver reads the next command line itself: another <c>BDAT</c> continues the message (and <c>NOOP</c> is
/// answered); anything else ends it unstored and is left in the input for the connection to run.
/// </summary>
internal sealed partial class MessageReceiver
{
    /// <summary>
    /// Receives the message of <paramref name="envelope"/> by BDAT, starting with a chunk of <paramref name="size"/>
    /// octets (the BDAT line has been consumed; its octets follow in the input): each chunk but the LAST is answered
    /// <c>250</c> once the store has taken its octets, the LAST one with the store's reply. Returns
    /// <see cref="ConnectionAction.Close"/> when the session must end; <see cref="TransactionFailed"/> tells whether the
    /// transaction is over.
    /// </summary>
    public ValueTask<ConnectionAction> ReceiveChunksAsync(SmtpEnvelope envelope, long size, bool last)
    {
        _chunked = true;
        _chunks = new ChunkReader(_endpoint.MaxMessageSize ?? _settings.MaxMessageSize);
        _chunks.Begin(size, last);
        return ReceiveAsync(envelope);
    }

    /// <summary>
    /// Reads and drops the <paramref name="size"/> octets of a refused BDAT chunk (RFC 3030 §2: the data of a failed
    /// BDAT is accepted and discarded; never parsed as commands), under the data timeouts. The caller writes the
    /// refusal afterwards. Returns <see cref="ConnectionAction.Close"/> when the session must end.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ConnectionAction> DiscardChunkAsync(long size)
    {
        _chunked = true;
        _chunks = new ChunkReader(long.MaxValue);
        _chunks.Begin(size, last: true);
        _contentEnd = ContentEnd.None;
        _dataDeadline = _services.Clock.After(_settings.DataTimeout);
        _connection.SetBulkReads(true);
        try
        {
            while (_contentEnd == ContentEnd.None)
            {
                await PumpContentAsync(Memory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            _connection.SetBulkReads(false);
        }

        switch (_contentEnd)
        {
            case ContentEnd.Completed:
                return ConnectionAction.Continue;
            case ContentEnd.TimedOut:
                _connection.OnTimeout(TimeoutPhase.Content);
                return ConnectionAction.Close;
            case ContentEnd.Aborted:
                _connection.WriteFarewell(Replies.ShuttingDown);
                return ConnectionAction.Close;
            default:
                return ConnectionAction.Close;
        }
    }

    /// <summary>
    /// One read of chunk octets into <paramref name="destination"/> (dropped when it is empty or the message is over
    /// the limit), or, between chunks, the next command line. Sets <see cref="_contentEnd"/> when the message ends.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> PumpChunkAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        if (!_chunks.InChunk)
        {
            await NextChunkAsync(cancellationToken).ConfigureAwait(false);
            if (_contentEnd != ContentEnd.None)
            {
                return 0;
            }
        }

        if (_chunks.Remaining == 0)
        {
            EndChunk();
            return 0;
        }

        var result = await ReadInputAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCanceled)
        {
            return 0;
        }

        var buffer = result.Buffer;
        var writing = !destination.IsEmpty && !_chunks.SizeExceeded;
        var take = Math.Min(buffer.Length, _chunks.Remaining);
        if (writing)
        {
            take = Math.Min(take, destination.Length);
        }

        var piece = buffer.Slice(0, take);
        if (writing)
        {
            piece.CopyTo(destination.Span);
        }

        _chunks.Consume(take);
        var input = _connection.Input;
        if (take < buffer.Length)
        {
            // More of this chunk than the destination holds, or what follows the chunk: left unexamined, so the next
            // read returns it at once.
            input.AdvanceTo(piece.End);
        }
        else
        {
            input.AdvanceTo(piece.End, buffer.End);
        }

        if (_chunks.Remaining == 0)
        {
            EndChunk();
        }
        else if (result.IsCompleted && take == buffer.Length)
        {
            _contentEnd = ContentEnd.Disconnected;
        }

        return writing ? (int)take : 0;
    }

    /// <summary>All octets of the chunk are read: the message ends after LAST or over the limit; otherwise <c>250</c>.</summary>
    private void EndChunk()
    {
        _chunks.End();
        if (_chunks.IsLast || _chunks.SizeExceeded)
        {
            _contentEnd = ContentEnd.Completed;
            return;
        }

        // RFC 3030 §2: "A 250 response MUST be sent to each successful BDAT data block". It goes out with the next
        // flush, before the receiver waits for more input.
        _connection.Write(Replies.ChunkAccepted);
    }

    /// <summary>
    /// Between chunks: waits for the next command line. A valid <c>BDAT</c> line is consumed and starts the next chunk;
    /// a clean <c>NOOP</c> is answered; any other line (a malformed BDAT included) is left unread and ends the message
    /// as <see cref="ContentEnd.Interrupted"/>, for the connection to run it in the failed transaction.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask NextChunkAsync(CancellationToken cancellationToken)
    {
        var maxLength = _settings.MaxCommandLineLength;
        while (true)
        {
            var result = await ReadInputAsync(cancellationToken).ConfigureAwait(false);
            if (result.IsCanceled)
            {
                if (_contentEnd != ContentEnd.None)
                {
                    return;
                }

                continue;
            }

            var input = _connection.Input;
            var buffer = result.Buffer;
            var window = buffer.Length > maxLength ? buffer.Slice(0, maxLength) : buffer;
            var lineFeed = window.PositionOf((byte)'\n');
            if (lineFeed is null)
            {
                if (result.IsCompleted)
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                    _contentEnd = ContentEnd.Disconnected;
                    return;
                }

                if (buffer.Length >= maxLength)
                {
                    // Too long for a command: the connection's line reader refuses it.
                    input.AdvanceTo(buffer.Start);
                    _contentEnd = ContentEnd.Interrupted;
                    return;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                continue;
            }

            var line = buffer.Slice(0, lineFeed.Value);
            var next = buffer.GetPosition(1, lineFeed.Value);
            switch (ReadBetweenChunks(line, out var size, out var last))
            {
                case SmtpVerb.Bdat:
                    input.AdvanceTo(next);
                    _chunks.Begin(size, last);
                    return;
                case SmtpVerb.Noop:
                    input.AdvanceTo(next);
                    _connection.Write(Replies.Ok);
                    continue;
                default:
                    input.AdvanceTo(buffer.Start);
                    _contentEnd = ContentEnd.Interrupted;
                    return;
            }
        }
    }

    /// <summary>
    /// Classifies a line read between chunks (up to its LF): <see cref="SmtpVerb.Bdat"/> for a valid BDAT line (with its
    /// size and LAST flag), <see cref="SmtpVerb.Noop"/> for a clean NOOP, <see cref="SmtpVerb.Unknown"/> for anything
    /// else (including a line with a bare CR or LF, or a NUL, which the connection's checks then judge).
    /// </summary>
    private static SmtpVerb ReadBetweenChunks(in ReadOnlySequence<byte> line, out long size, out bool last)
    {
        size = 0;
        last = false;
        Span<byte> copy = stackalloc byte[128];
        if (line.Length < 5 || line.Length > copy.Length)
        {
            // A BDAT line is at most "BDAT " + 18 digits + " LAST" + CR; a long NOOP is left to the connection.
            return SmtpVerb.Unknown;
        }

        copy = copy[..(int)line.Length];
        line.CopyTo(copy);
        if (copy[^1] != (byte)'\r')
        {
            return SmtpVerb.Unknown;
        }

        copy = copy[..^1];
        if (copy.IndexOfAny((byte)'\r', (byte)'\0') >= 0)
        {
            return SmtpVerb.Unknown;
        }

        return VerbParser.Parse(copy, out var arguments) switch
        {
            SmtpVerb.Bdat when BdatArguments.Parse(arguments, out size, out last) == BdatParse.Ok => SmtpVerb.Bdat,
            SmtpVerb.Noop => SmtpVerb.Noop,
            _ => SmtpVerb.Unknown,
        };
    }

    /// <summary>
    /// One read under the data timeouts (the per-read block timeout within the message's absolute one), after
    /// flushing the replies written so far. A cancelled read sets <see cref="_contentEnd"/> for an abort or a deadline.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ReadResult> ReadInputAsync(CancellationToken cancellationToken)
    {
        var connection = _connection;
        var remaining = _services.Clock.Until(_dataDeadline);
        connection.SetDeadline(remaining < _settings.DataBlockTimeout ? remaining : _settings.DataBlockTimeout, TimeoutPhase.Content);

        // A chunk's 250 (and the replies before the first BDAT) must reach a client that waits for them before it
        // sends more (RFC 2920 §3.1).
        await connection.FlushAsync().ConfigureAwait(false);
        var input = connection.Input;
        var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCanceled)
        {
            input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            if (connection.AbortRequested)
            {
                _contentEnd = ContentEnd.Aborted;
            }
            else if (connection.IsExpired)
            {
                _contentEnd = ContentEnd.TimedOut;
            }
        }

        return result;
    }
}
