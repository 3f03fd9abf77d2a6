using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using StartTls.Smtp.Diagnostics;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// The DATA phase of one connection, or its BDAT chunks: the store runs on the connection's own loop and pulls the
/// content off the input through <see cref="MessageContentStream"/>; what it leaves unread is read to the terminator
/// (or to the end of the LAST chunk); then the reply.
/// </summary>
/// <remarks>
/// One receiver per connection, created at its first DATA and reused from message to message: a message costs no new
/// receiver, stream, sink or token source. It reads through the connection's current input (which STARTTLS replaces),
/// moves the connection's deadline and writes its replies through the connection, which stays the one owner of the
/// pipes, the deadlines and the abort path.
/// </remarks>
internal sealed partial class MessageReceiver : IDisposable
{
    private readonly SmtpConnection _connection;
    private readonly ServerServices _services;
    private readonly ProtocolSettings _settings;
    private readonly SmtpSession _session;
    private readonly EndpointSettings _endpoint;

    // Reused from message to message.
    private MessageContentStream? _contentStream;
    private ContentSink? _contentSink;
    private CancellationTokenSource? _storeCancellation;

    // The message being received: DATA content, or BDAT chunks when _chunked.
    private bool _chunked;
    private DataReader _data;
    private ChunkReader _chunks;
    private ContentEnd _contentEnd;
    private bool _storeAborted;
    private long _dataDeadline;
    private ExceptionDispatchInfo? _contentFault;

    public MessageReceiver(SmtpConnection connection, ServerServices services, SmtpSession session, EndpointSettings endpoint)
    {
        _connection = connection;
        _services = services;
        _settings = services.Settings;
        _session = session;
        _endpoint = endpoint;
    }

    private enum ContentEnd : byte
    {
        /// <summary>More content to come.</summary>
        None,
        Completed,
        TimedOut,
        Disconnected,
        Nul,
        BareLineEnding,

        /// <summary>The session was aborted (<see cref="SmtpConnection.Abort"/>).</summary>
        Aborted,

        /// <summary>A command other than BDAT came before the LAST chunk: the message is dropped, the command left to run.</summary>
        Interrupted,
    }

    /// <summary>True once the terminator has been read (whether or not the content was within the limits).</summary>
    internal bool ContentCompleted => _contentEnd == ContentEnd.Completed;

    /// <summary>
    /// After <see cref="ReceiveChunksAsync"/>: true when the BDAT transaction failed before its LAST chunk (a chunk over
    /// the size limit, or a command between chunks); it stays open, refusing chunks, until RSET (RFC 3030 §2).
    /// </summary>
    internal bool TransactionFailed { get; private set; }

    private bool SizeExceeded => _chunked ? _chunks.SizeExceeded : _data.SizeExceeded;

    private bool LineTooLong => !_chunked && _data.LineTooLong;

    private long Size => _chunked ? _chunks.Size : _data.Size;

    /// <inheritdoc />
    public void Dispose() => _storeCancellation?.Dispose();

    /// <summary>
    /// Receives the content of <paramref name="envelope"/>'s message (the 354 is written, not yet flushed), has the
    /// store take it, and writes the reply. Returns <see cref="ConnectionAction.Close"/> when the session must end.
    /// </summary>
    public ValueTask<ConnectionAction> ReceiveMessageAsync(SmtpEnvelope envelope)
    {
        _chunked = false;
        _data = new DataReader(_endpoint.MaxMessageSize ?? _settings.MaxMessageSize, _settings.MaxTextLineLength, _settings.BareLineEndings);
        return ReceiveAsync(envelope);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ConnectionAction> ReceiveAsync(SmtpEnvelope envelope)
    {
        var connection = _connection;
        await connection.FlushAsync().ConfigureAwait(false);

        TransactionFailed = false;
        BeginReplies(envelope);
        _contentEnd = ContentEnd.None;
        _storeAborted = false;
        _contentFault = null;
        _dataDeadline = _services.Clock.After(_settings.DataTimeout);
        var stream = _contentStream ??= new MessageContentStream(this);
        stream.Reset();
        if (_storeCancellation is null || !_storeCancellation.TryReset())
        {
            // The last message was aborted (its token cancelled): start a fresh source.
            _storeCancellation?.Dispose();
            _storeCancellation = CancellationTokenSource.CreateLinkedTokenSource(connection.Aborted);
        }

        connection.SetBulkReads(true);
        SmtpReply reply;
        bool storeReadAll;
        try
        {
            if (SizeExceeded)
            {
                // The first chunk alone is over the limit: no store is bothered with a message that cannot be taken.
                reply = Replies.MessageTooLarge;
                storeReadAll = false;
            }
            else
            {
                reply = await RunStoreAsync(envelope, stream, _storeCancellation.Token).ConfigureAwait(false);
                storeReadAll = stream.ReachedEnd;
            }

            stream.Reset();

            // The connection broke while the store was reading: the store was told, now the session ends.
            _contentFault?.Throw();

            // The store may return (or fail) before the end: read on to the terminator, keeping nothing, to answer in step.
            while (_contentEnd == ContentEnd.None)
            {
                await PumpContentAsync(Memory<byte>.Empty, CancellationToken.None).ConfigureAwait(false);
            }
        }
        finally
        {
            connection.SetBulkReads(false);
        }

        if (_contentEnd == ContentEnd.Completed && !SizeExceeded && !LineTooLong)
        {
            if (reply.IsPositive && !storeReadAll && _recipientReplies is null)
            {
                // (An LMTP store's per-recipient replies are checked one by one in CompleteMessage.)
                Log.StoreDidNotReadAll(_services.Logger);
                reply = Replies.StoreIncomplete;
            }

            // The filter's content verdict, if it has one, before anything is said. A verdict that replaces the store's
            // reply speaks for every recipient (LMTP): the store's per-recipient replies are then set aside.
            var judged = await connection.JudgeMessageAsync(reply).ConfigureAwait(false);
            if (!ReferenceEquals(judged, reply))
            {
                _recipientReplies = null;
            }

            return CompleteMessage(envelope, judged, Size, storeReadAll);
        }

        _services.Metrics.MessagesRefused.Add(1, _endpoint.MetricTag);
        var activity = connection.TransactionActivity;
        switch (_contentEnd)
        {
            case ContentEnd.TimedOut:
                SmtpActivities.Fail(activity, "timeout");
                RepeatForOtherRecipients(Replies.Timeout);
                connection.OnTimeout(TimeoutPhase.Content);
                return ConnectionAction.Close;
            case ContentEnd.Aborted:
                // Never a 250 for a message the store was told to drop.
                Log.MessageRefused(_services.Logger, Replies.ShuttingDown.Code, "the session was aborted");
                SmtpActivities.Fail(activity, "aborted");
                SmtpActivities.Fail(connection.Activity, "aborted");
                RepeatForOtherRecipients(Replies.ShuttingDown);
                connection.WriteFarewell(Replies.ShuttingDown);
                return ConnectionAction.Close;
            case ContentEnd.Disconnected:
                SmtpActivities.Fail(activity, "disconnected");
                SmtpActivities.Fail(connection.Activity, "disconnected");
                return ConnectionAction.Close;
            case ContentEnd.Nul:
                SmtpActivities.Fail(activity, "nul_in_data");
                RepeatForOtherRecipients(Replies.NulInData);
                return connection.Violation(Replies.NulInData, "nul_in_data", "NUL in message content");
            case ContentEnd.BareLineEnding:
                SmtpActivities.Fail(activity, "bare_line_ending_in_data");
                RepeatForOtherRecipients(Replies.BareLineEndingInData);
                return connection.Violation(Replies.BareLineEndingInData, "bare_line_ending_in_data", "bare CR or LF in message content");
            case ContentEnd.Completed when SizeExceeded:
                Log.MessageRefused(_services.Logger, Replies.MessageTooLarge.Code, "over the size limit");
                SmtpActivities.MessageReplied(activity, Replies.MessageTooLarge.Code, Size);
                RepeatForOtherRecipients(Replies.MessageTooLarge);
                connection.MessageReplied(Replies.MessageTooLarge);
                connection.Write(Replies.MessageTooLarge);

                // A BDAT chunk over the limit ends the message at its last octet; unless it was LAST, the client may
                // have pipelined more chunks, which are refused until RSET (RFC 3030 §2).
                TransactionFailed = _chunked && !_chunks.IsLast;
                return ConnectionAction.Continue;
            case ContentEnd.Interrupted:
                // No reply here: the command that came between the chunks runs next, in the failed transaction.
                Log.MessageRefused(_services.Logger, Replies.BdatTransactionFailed.Code, "a command came before the LAST chunk");
                SmtpActivities.Fail(activity, "interrupted");
                TransactionFailed = true;
                return ConnectionAction.Continue;
            default:
                Log.MessageRefused(_services.Logger, Replies.DataLineTooLong.Code, "line too long");
                SmtpActivities.MessageReplied(activity, Replies.DataLineTooLong.Code, Size);
                RepeatForOtherRecipients(Replies.DataLineTooLong);
                connection.MessageReplied(Replies.DataLineTooLong);
                connection.Write(Replies.DataLineTooLong);
                return ConnectionAction.Continue;
        }
    }

    /// <summary>
    /// The store's read: decodes the next piece of content into <paramref name="destination"/> and returns how many
    /// bytes it wrote (0 when the piece held none, for example only a terminator or a stuffing dot). Throws
    /// <see cref="MessageAbortedException"/> once the transaction has failed, and on every read after that.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    internal async ValueTask<int> ReadContentAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        ThrowIfAborted();
        int written;
        try
        {
            written = await PumpContentAsync(destination, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The store gave up on its own read; the transaction goes on (its end is read after the store returns).
            throw;
        }
        catch (Exception ex)
        {
            // The connection failed: the store must keep nothing, and the session ends once it has returned.
            _contentFault = ExceptionDispatchInfo.Capture(ex);
            await AbortStoreAsync().ConfigureAwait(false);
            throw new MessageAbortedException("The message was aborted: the connection failed.", ex);
        }

        var failed = _contentEnd is not (ContentEnd.None or ContentEnd.Completed);
        if (failed || SizeExceeded || LineTooLong)
        {
            // Tell the store now, so it stops writing; the terminator is still read before the reply (RFC 1870 §6.3).
            await AbortStoreAsync().ConfigureAwait(false);
            ThrowIfAborted();
        }

        return written;
    }

    private void ThrowIfAborted()
    {
        if (_storeAborted)
        {
            throw new MessageAbortedException("The message was aborted: " + AbortReason() + ".");
        }
    }

    private string AbortReason() => _contentEnd switch
    {
        ContentEnd.TimedOut => "timeout",
        ContentEnd.Aborted => "the session was aborted",
        ContentEnd.Disconnected => "the client disconnected",
        ContentEnd.Nul or ContentEnd.BareLineEnding => "the content broke the protocol",
        ContentEnd.Interrupted => "a command came before the LAST chunk",
        _ when _contentFault is not null => "the connection failed",
        _ when SizeExceeded => "over the size limit",
        _ => "a line over the length limit",
    };

    private async ValueTask AbortStoreAsync()
    {
        if (!_storeAborted)
        {
            _storeAborted = true;
            await _storeCancellation!.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// One read from the input, decoded into <paramref name="destination"/> (or dropped when it is empty or a limit
    /// was exceeded). Sets <see cref="_contentEnd"/> when the content ends, one way or another.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> PumpContentAsync(Memory<byte> destination, CancellationToken cancellationToken)
    {
        var connection = _connection;
        if (connection.AbortRequested)
        {
            _contentEnd = ContentEnd.Aborted;
            return 0;
        }

        if (_chunked)
        {
            return await PumpChunkAsync(destination, cancellationToken).ConfigureAwait(false);
        }

        var remaining = _services.Clock.Until(_dataDeadline);
        connection.SetDeadline(remaining < _settings.DataBlockTimeout ? remaining : _settings.DataBlockTimeout, TimeoutPhase.Content);
        var input = connection.Input;
        var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
        var buffer = result.Buffer;
        if (result.IsCanceled)
        {
            // The one abort path: a cancelled read is an abort, a deadline, or spurious (read again).
            input.AdvanceTo(buffer.Start, buffer.End);
            if (connection.AbortRequested)
            {
                _contentEnd = ContentEnd.Aborted;
            }
            else if (connection.IsExpired)
            {
                _contentEnd = ContentEnd.TimedOut;
            }

            return 0;
        }

        var content = buffer;
        var sink = (ContentSink?)null;
        if (!destination.IsEmpty && !_data.SizeExceeded && !_data.LineTooLong)
        {
            // Decoding can emit up to 3 held-back bytes, and with normalisation 2 bytes per input byte: take no more
            // input than surely fits.
            var fits = (destination.Length - 3) / (_settings.BareLineEndings == BareLineEndingHandling.Normalize ? 2 : 1);
            System.Diagnostics.Debug.Assert(fits > 0, "MessageContentStream reads into buffers of at least DirectThreshold bytes.");
            if (content.Length > fits)
            {
                content = content.Slice(0, fits);
            }

            sink = _contentSink ??= new ContentSink();
            sink.Reset(destination);
        }

        var status = _data.Process(content, sink, out var consumed);
        if (status == DataStatus.Completed || content.Length < buffer.Length)
        {
            // After the terminator comes the next pipelined command, and past a partial slice more content:
            // both are left unexamined, so the next read returns them at once.
            input.AdvanceTo(consumed);
        }
        else
        {
            input.AdvanceTo(consumed, buffer.End);
        }

        var written = sink?.Written ?? 0;
        sink?.Clear();
        _contentEnd = status switch
        {
            DataStatus.Completed => ContentEnd.Completed,
            DataStatus.Nul => ContentEnd.Nul,
            DataStatus.BareLineEnding => ContentEnd.BareLineEnding,
            _ when result.IsCompleted && content.Length == buffer.Length => ContentEnd.Disconnected,
            _ => ContentEnd.None,
        };
        return written;
    }

    private ConnectionAction CompleteMessage(SmtpEnvelope envelope, SmtpReply reply, long size, bool storeReadAll)
    {
        // One reply, or on an LMTP endpoint one per recipient in RCPT order (RFC 2033 §4.2), all in the next flush.
        var accepted = 0;
        var acceptedCode = 250;
        SmtpReply? firstAccepted = null;
        var close = false;
        var warned = false;
        for (var i = 0; i < _replyCount; i++)
        {
            var recipientReply = ReplyFor(i, reply);
            if (recipientReply.IsPositive && !storeReadAll)
            {
                if (!warned)
                {
                    Log.StoreDidNotReadAll(_services.Logger);
                    warned = true;
                }

                recipientReply = Replies.StoreIncomplete;
            }

            if (recipientReply.IsPositive)
            {
                acceptedCode = accepted++ == 0 ? recipientReply.Code : acceptedCode;
                firstAccepted ??= recipientReply;
            }
            else
            {
                reply = recipientReply;
            }

            // A store that says 421 closes the session (RFC 5321 §3.8), as a hook's 421 does.
            close |= recipientReply.Code == 421;
            _connection.Write(recipientReply);
        }

        if (accepted > 0)
        {
            _session.MessageCount++;
            _services.Metrics.MessagesAccepted.Add(1, _endpoint.MetricTag);
            _services.Metrics.BytesReceived.Add(size, _endpoint.MetricTag);
            Log.MessageAccepted(_services.Logger, size, _replyCount == 1 ? envelope.Recipients.Count : accepted);
        }
        else
        {
            _services.Metrics.MessagesRefused.Add(1, _endpoint.MetricTag);
            Log.MessageRefused(_services.Logger, reply.Code, "refused by the store");
        }

        SmtpActivities.MessageReplied(_connection.TransactionActivity, accepted > 0 ? acceptedCode : reply.Code, size);
        _connection.MessageReplied(firstAccepted ?? reply);
        return close ? ConnectionAction.Close : ConnectionAction.Continue;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<SmtpReply> RunStoreAsync(SmtpEnvelope envelope, MessageContentStream stream, CancellationToken cancellationToken)
    {
        try
        {
            // The store is the transaction's (under a container, resolved in its scope now, at its first use).
            return await SaveAsync(_connection.Transaction!.GetMessageStore(), envelope, stream, cancellationToken).ConfigureAwait(false) ?? Replies.LocalError;
        }
#pragma warning disable CA1031 // A failing store becomes 451 so the client retries; it must not end the connection.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (!cancellationToken.IsCancellationRequested && ex is not MessageAbortedException)
            {
                Log.StoreFailed(_services.Logger, ex);
            }

            return Replies.LocalError;
        }
    }
}
