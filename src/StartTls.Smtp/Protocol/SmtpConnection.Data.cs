using System.IO.Pipelines;
using System.Runtime.CompilerServices;
using StartTls.Smtp.Diagnostics;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Protocol;

/// <summary>The DATA phase: stream the content to the store, then answer with the store's verdict.</summary>
internal sealed partial class SmtpConnection
{
    // Reused from message to message on a connection: a message costs no new pipe, stream or token source.
    private Pipe? _content;
    private MessageContentStream? _contentStream;
    private CancellationTokenSource? _storeCancellation;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<ConnectionAction> ReceiveMessageAsync()
    {
        var envelope = _transaction!;
        _transaction = null;
        await FlushAsync().ConfigureAwait(false);

        var content = _content ??= new Pipe(ContentPipeOptions);
        var stream = _contentStream ??= new MessageContentStream(content.Reader);
        stream.Reset();
        if (_storeCancellation is null || !_storeCancellation.TryReset())
        {
            // The last message was aborted (its token cancelled): start a fresh source.
            _storeCancellation?.Dispose();
            _storeCancellation = CancellationTokenSource.CreateLinkedTokenSource(_aborted);
        }

        var storeCancellation = _storeCancellation;
        var storeToken = storeCancellation.Token;

        // The store runs on the thread pool: it may block on the stream, and this loop is the stream's only writer.
        var storeTask = Task.Run(() => RunStoreAsync(envelope, stream, content.Reader, storeToken), CancellationToken.None);

        var reader = new DataReader(_settings.MaxMessageSize, _settings.MaxTextLineLength, _settings.BareLineEndings);
        var writer = content.Writer;
        var storeReading = true;
        var dataDeadline = Environment.TickCount64 + (long)_settings.DataTimeout.TotalMilliseconds;
        var status = DataStatus.NeedMoreData;
        var timedOut = false;
        var disconnected = false;
        var storeAborted = false;
        try
        {
            while (true)
            {
                var remaining = TimeSpan.FromMilliseconds(Math.Max(0, dataDeadline - Environment.TickCount64));
                SetDeadline(remaining < _settings.DataBlockTimeout ? remaining : _settings.DataBlockTimeout);
                var result = await _input.ReadAsync().ConfigureAwait(false);
                var buffer = result.Buffer;
                if (result.IsCanceled && IsExpired)
                {
                    _input.AdvanceTo(buffer.Start, buffer.End);
                    timedOut = true;
                    break;
                }

                var limitHit = reader.SizeExceeded || reader.LineTooLong;
                status = reader.Process(buffer, storeReading ? writer : null, out var consumed);
                if (status == DataStatus.Completed)
                {
                    // What follows the terminator is the next pipelined command: leave it unexamined.
                    _input.AdvanceTo(consumed);
                }
                else
                {
                    _input.AdvanceTo(consumed, buffer.End);
                }

                if (!limitHit && (reader.SizeExceeded || reader.LineTooLong) && storeReading)
                {
                    // Tell the store now, so it stops writing; keep reading to the terminator to answer in step.
                    storeReading = false;
                    storeAborted = true;
                    await AbortStoreAsync(writer, storeCancellation, reader.SizeExceeded ? "over the size limit" : "a line over the length limit").ConfigureAwait(false);
                }

                if (status != DataStatus.NeedMoreData)
                {
                    break;
                }

                if (result.IsCompleted)
                {
                    disconnected = true;
                    break;
                }

                if (storeReading && writer.UnflushedBytes > 0)
                {
                    // Backpressure: a slow store slows the client down instead of growing memory.
                    var flush = await writer.FlushAsync(storeToken).ConfigureAwait(false);
                    if (flush.IsCompleted)
                    {
                        storeReading = false;
                    }
                }
            }

        }
        catch
        {
            // The connection broke (I/O error, abort): the store must keep nothing.
            _content = null;
            if (!storeAborted)
            {
                await AbortStoreAsync(writer, storeCancellation, "the connection failed").ConfigureAwait(false);
            }

            await storeTask.ConfigureAwait(false);
            throw;
        }

        if (status == DataStatus.Completed && !reader.SizeExceeded && !reader.LineTooLong)
        {
            if (storeReading)
            {
                await writer.FlushAsync(storeToken).ConfigureAwait(false);
            }

            await writer.CompleteAsync().ConfigureAwait(false);
            var reply = await storeTask.ConfigureAwait(false);
            content.Reset(); // both ends are complete: the store's reader completes when the store returns
            return CompleteMessage(envelope, reply, stream.ReachedEnd, reader.Size);
        }

        // Every path below failed the transaction; the store is told and must keep nothing.
        if (!storeAborted)
        {
            await AbortStoreAsync(writer, storeCancellation, timedOut ? "timeout" : "the transaction failed").ConfigureAwait(false);
        }

        await storeTask.ConfigureAwait(false);
        content.Reset();
        SmtpMetrics.MessagesRefused.Add(1);

        if (timedOut)
        {
            Log.Timeout(_services.Logger, _session.Id, "message content");
            SmtpMetrics.Timeouts.Add(1);
            Write(Replies.Timeout);
            return ConnectionAction.Close;
        }

        if (disconnected)
        {
            return ConnectionAction.Close;
        }

        switch (status)
        {
            case DataStatus.Completed when reader.SizeExceeded:
                Log.MessageRefused(_services.Logger, _session.Id, Replies.MessageTooLarge.Code, "over the size limit");
                Write(Replies.MessageTooLarge);
                return ConnectionAction.Continue;
            case DataStatus.Completed:
                Log.MessageRefused(_services.Logger, _session.Id, Replies.DataLineTooLong.Code, "line too long");
                Write(Replies.DataLineTooLong);
                return ConnectionAction.Continue;
            case DataStatus.Nul:
                return Violation(Replies.NulInData, "nul_in_data", "NUL in message content");
            default:
                return Violation(Replies.BareLineEndingInData, "bare_line_ending_in_data", "bare CR or LF in message content");
        }
    }

    private ConnectionAction CompleteMessage(SmtpEnvelope envelope, SmtpReply reply, bool storeReadAll, long size)
    {
        if (reply.IsPositive && !storeReadAll)
        {
            Log.StoreDidNotReadAll(_services.Logger, _session.Id);
            reply = Replies.StoreIncomplete;
        }

        if (reply.IsPositive)
        {
            _session.MessageCount++;
            SmtpMetrics.MessagesAccepted.Add(1);
            SmtpMetrics.BytesReceived.Add(size);
            Log.MessageAccepted(_services.Logger, _session.Id, size, envelope.Recipients.Count);
        }
        else
        {
            SmtpMetrics.MessagesRefused.Add(1);
            Log.MessageRefused(_services.Logger, _session.Id, reply.Code, "refused by the store");
        }

        Write(reply);
        return ConnectionAction.Continue;
    }

    private static async ValueTask AbortStoreAsync(PipeWriter writer, CancellationTokenSource storeCancellation, string reason)
    {
        await writer.CompleteAsync(new MessageAbortedException("The message was aborted: " + reason + ".")).ConfigureAwait(false);
        await storeCancellation.CancelAsync().ConfigureAwait(false);
    }

    private async Task<SmtpReply> RunStoreAsync(SmtpEnvelope envelope, MessageContentStream stream, PipeReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await _services.Store.SaveAsync(_session, envelope, stream, cancellationToken).ConfigureAwait(false) ?? Replies.LocalError;
        }
#pragma warning disable CA1031 // A failing store becomes 451 so the client retries; it must not end the connection.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            if (!cancellationToken.IsCancellationRequested && ex is not MessageAbortedException)
            {
                Log.StoreFailed(_services.Logger, _session.Id, ex);
            }

            return Replies.LocalError;
        }
        finally
        {
            await reader.CompleteAsync().ConfigureAwait(false);
        }
    }
}
