using StartTls.Smtp.MailCatcher.Storage;

namespace StartTls.Smtp.MailCatcher.Web;

/// <summary>A message in <c>GET /api/messages</c>.</summary>
/// <param name="Id">The message id.</param>
/// <param name="From">The From header, or the envelope sender when the header is missing.</param>
/// <param name="To">The To and Cc mailboxes, or the envelope recipients when the headers are missing.</param>
/// <param name="Subject">The subject.</param>
/// <param name="Date">The Date header, or the time it was received.</param>
/// <param name="Size">The size in octets.</param>
internal sealed record MessageSummary(long Id, string From, IReadOnlyList<string> To, string Subject, DateTimeOffset Date, long Size)
{
    /// <summary>The summary of <paramref name="record"/>.</summary>
    /// <param name="record">The stored message.</param>
    /// <returns>The summary.</returns>
    public static MessageSummary Of(MessageRecord record) => new(
        record.Id,
        record.From.Length > 0 ? record.From : record.EnvelopeFrom,
        record.To.Count > 0 ? record.To : record.EnvelopeTo,
        record.Subject,
        record.Date ?? record.Received,
        record.Size);
}

/// <summary>A header as it appears in the message, decoded.</summary>
/// <param name="Name">The field name.</param>
/// <param name="Value">The decoded value.</param>
internal sealed record HeaderField(string Name, string Value);

/// <summary>An attachment in <c>GET /api/messages/{id}</c>; download it at <c>attachments/{Index}</c>.</summary>
/// <param name="Index">Its position among the message's attachments, from 0.</param>
/// <param name="FileName">The file name the sender gave, or a generated one.</param>
/// <param name="ContentType">The MIME type the sender gave.</param>
/// <param name="Size">The decoded size in octets.</param>
internal sealed record AttachmentInfo(int Index, string FileName, string ContentType, long Size);

/// <summary>The envelope as the SMTP server received it.</summary>
/// <param name="From">MAIL FROM; empty for the null sender.</param>
/// <param name="To">RCPT TO, in order.</param>
internal sealed record EnvelopeInfo(string From, IReadOnlyList<string> To);

/// <summary><c>GET /api/messages/{id}</c>: the summary plus headers, bodies and attachments.</summary>
/// <param name="Id">The message id.</param>
/// <param name="From">As in <see cref="MessageSummary"/>.</param>
/// <param name="To">As in <see cref="MessageSummary"/>.</param>
/// <param name="Subject">The subject.</param>
/// <param name="Date">As in <see cref="MessageSummary"/>.</param>
/// <param name="Size">The size in octets.</param>
/// <param name="Received">When the catcher stored it.</param>
/// <param name="Envelope">The SMTP envelope.</param>
/// <param name="Headers">The top-level headers in order.</param>
/// <param name="Text">The text/plain body, or null.</param>
/// <param name="Html">The text/html body, or null; render it only through <c>/api/messages/{id}/html</c>.</param>
/// <param name="Attachments">The attachments.</param>
/// <param name="ParseError">Why the message could not be parsed, or null; the raw source is still there.</param>
internal sealed record MessageDetail(
    long Id,
    string From,
    IReadOnlyList<string> To,
    string Subject,
    DateTimeOffset Date,
    long Size,
    DateTimeOffset Received,
    EnvelopeInfo Envelope,
    IReadOnlyList<HeaderField> Headers,
    string? Text,
    string? Html,
    IReadOnlyList<AttachmentInfo> Attachments,
    string? ParseError);
