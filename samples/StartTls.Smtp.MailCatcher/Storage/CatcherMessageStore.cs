using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using MimeKit;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.MailCatcher.Storage;

/// <summary>
/// The SMTP server's message store: parses each message with MimeKit while it arrives, keeps the raw bytes and a
/// searchable summary in <see cref="MessageDatabase"/>, and answers 250 only once the row is committed. A message that
/// MimeKit cannot parse is still kept (raw, with the reason) and accepted: a mail catcher shows what was sent.
/// </summary>
internal sealed class CatcherMessageStore(
    MessageDatabase database,
    MessageEvents events,
    IOptions<SmtpServerOptions> serverOptions,
    TimeProvider time,
    ILogger<CatcherMessageStore> logger) : IMessageStore
{
    private static readonly SmtpReply NotStored = new(451, "4.3.0", "Message not stored, try again later");

    /// <inheritdoc />
    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(content);

        // The server stops reading (MessageAbortedException) past MaxMessageSize, so the copy is bounded by it too.
        var initialCapacity = (int)Math.Min(envelope.DeclaredSize ?? 64 * 1024, Math.Min(serverOptions.Value.MaxMessageSize, 1024 * 1024));
        using var raw = new MemoryStream(Math.Max(initialCapacity, 0));
        var reading = new CopyingReadStream(content, raw);
        MimeMessage? message = null;
        string? parseError = null;
        try
        {
            message = await MimeMessage.LoadAsync(reading, cancellationToken);
        }
        catch (FormatException ex)
        {
            parseError = ex.Message;
        }

        try
        {
            // The parser may stop early (a malformed message); the rest is read so the raw copy is whole.
            await reading.CopyToAsync(Stream.Null, cancellationToken);
            var record = Summarize(envelope, message, raw.Length, parseError);
            long id;
            try
            {
                id = await database.InsertAsync(record, raw.GetBuffer().AsMemory(0, (int)raw.Length), cancellationToken);
            }
            catch (SqliteException ex)
            {
                CatcherLog.StoreFailed(logger, ex);
                return NotStored;
            }

            CatcherLog.MessageStored(logger, id, record.Size, record.EnvelopeFrom);
            if (parseError is not null)
            {
                CatcherLog.MessageUnparseable(logger, id, parseError);
            }

            events.Publish(new MessageEvent("stored", id));
            return new SmtpReply(250, "2.0.0", FormattableString.Invariant($"Message caught as {id}"));
        }
        finally
        {
            message?.Dispose();
        }
    }

    private MessageRecord Summarize(SmtpEnvelope envelope, MimeMessage? message, long size, string? parseError)
    {
        var envelopeTo = new List<string>(envelope.Recipients.Count);
        foreach (var recipient in envelope.Recipients)
        {
            envelopeTo.Add(recipient.Mailbox.Address);
        }

        var to = new List<string>();
        if (message is not null)
        {
            foreach (var address in message.To)
            {
                to.Add(address.ToString());
            }

            foreach (var address in message.Cc)
            {
                to.Add(address.ToString());
            }
        }

        var date = message is not null && message.Headers.Contains(HeaderId.Date) && message.Date != DateTimeOffset.MinValue
            ? message.Date
            : (DateTimeOffset?)null;
        return new MessageRecord(
            0,
            time.GetUtcNow(),
            envelope.From?.Address ?? string.Empty,
            envelopeTo,
            message?.From.ToString() ?? string.Empty,
            to,
            message?.Subject ?? string.Empty,
            date,
            size,
            parseError);
    }
}
