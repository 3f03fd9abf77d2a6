namespace StartTls.Smtp.Storage;

/// <summary>
/// Receives each message while it arrives and decides the reply to the end of DATA.
/// </summary>
/// <remarks>
/// <para>
/// The server calls <see cref="SaveAsync"/> as soon as DATA is accepted, on the connection's own flow. Each read of
/// <c>content</c> takes the next piece straight off the connection and decodes it into the store's buffer, so the
/// message is never held whole in memory and a store that reads slowly slows the client down. The content is the
/// message as it will be delivered: dot-stuffing already undone, CRLF line endings, ending with the last line's CRLF
/// (an empty message is zero bytes). Prefer asynchronous reads and writes: a synchronous one holds a thread-pool
/// thread until the network or the disk answers.
/// </para>
/// <para>
/// A message sent by BDAT (RFC 3030 CHUNKING) comes through the same single stream: the octets of all its chunks in
/// order, exactly as sent (no dot-unstuffing, no line ending changes; with <c>BODY=BINARYMIME</c> it may be binary).
/// The store is called at the first chunk and its reply answers the LAST one.
/// </para>
/// <para>
/// Read the content to its end before returning a positive reply: the server answers 250 only after the store has
/// returned, and it answers 451 if a store returns success without having read the whole message. If the transaction
/// fails first (the client disconnects, the size limit is exceeded, a bare line ending arrives), reading throws
/// <see cref="MessageAbortedException"/> and the cancellation token is cancelled: keep nothing.
/// An exception thrown by the store makes the server answer <c>451 4.3.0</c>, so the client retries.
/// </para>
/// </remarks>
public interface IMessageStore
{
    /// <summary>Stores one message and returns the reply to send (a 2xx reply only once it is durably kept).</summary>
    /// <param name="session">The connection's facts (endpoints, HELO name).</param>
    /// <param name="envelope">The transaction's reverse path, recipients and parameters.</param>
    /// <param name="content">The message content as it arrives.</param>
    /// <param name="cancellationToken">Cancelled when the transaction is aborted or the server shuts down.</param>
    /// <returns>The reply to the end of DATA, for example <see cref="SmtpReply.MessageAccepted"/>.</returns>
    ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken);
}
