using StartTls.Smtp.Diagnostics;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// LMTP's answer to the content (RFC 2033 §4.2): one reply per accepted recipient, in RCPT order, all written before
/// the one flush that follows. A store implementing <see cref="ILmtpMessageStore"/> gives them; any other store's
/// single reply, and every failure of the message itself, is repeated for each recipient.
/// </summary>
internal sealed partial class MessageReceiver
{
    // The message being received on an LMTP endpoint: how many replies its end gets, and the store's, once returned.
    private int _replyCount = 1;
    private IReadOnlyList<SmtpReply>? _recipientReplies;

    /// <summary>Sets up the replies of the message about to be received: one, or one per recipient on an LMTP endpoint.</summary>
    private void BeginReplies(SmtpEnvelope envelope)
    {
        _replyCount = _endpoint.IsLmtp ? envelope.Recipients.Count : 1;
        _recipientReplies = null;
    }

    /// <summary>
    /// Calls the store: a per-recipient store on an LMTP endpoint keeps its replies for <see cref="CompleteMessage"/>
    /// and its first is returned; a list of the wrong length is logged and becomes <c>451</c> for every recipient.
    /// </summary>
    private async ValueTask<SmtpReply> SaveAsync(IMessageStore store, SmtpEnvelope envelope, MessageContentStream stream, CancellationToken cancellationToken)
    {
        if (!_endpoint.IsLmtp || store is not ILmtpMessageStore lmtp)
        {
            return await store.SaveAsync(_session, envelope, stream, cancellationToken).ConfigureAwait(false);
        }

        var replies = await lmtp.SaveForEachRecipientAsync(_session, envelope, stream, cancellationToken).ConfigureAwait(false);
        if (replies is null || replies.Count != envelope.Recipients.Count)
        {
            Log.LmtpReplyCountMismatch(_services.Logger, replies?.Count ?? 0, envelope.Recipients.Count);
            return Replies.LocalError;
        }

        _recipientReplies = replies;
        return replies.Count > 0 ? replies[0] ?? Replies.LocalError : Replies.LocalError;
    }

    /// <summary>The reply for recipient <paramref name="index"/>: the store's own, or the message's single reply.</summary>
    private SmtpReply ReplyFor(int index, SmtpReply reply)
        => _recipientReplies is { } replies ? replies[index] ?? Replies.LocalError : reply;

    /// <summary>
    /// Before the one reply a failed message gets (over the limit, a line too long, a timeout, an abort, a protocol
    /// violation): on an LMTP endpoint, the same reply for each recipient but the last, so the client reads one per
    /// recipient. Only where the message's end is answered: a BDAT chunk before LAST gets one reply, as in SMTP.
    /// </summary>
    private void RepeatForOtherRecipients(SmtpReply reply)
    {
        if (_chunked && !_chunks.IsLast)
        {
            return;
        }

        for (var i = 1; i < _replyCount; i++)
        {
            _connection.Write(reply);
        }
    }
}
