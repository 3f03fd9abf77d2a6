namespace StartTls.Smtp.MailCatcher.Storage;

/// <summary>One caught message as the database keeps it: what the list shows and searches, and the raw bytes.</summary>
/// <param name="Id">The row id, increasing with arrival; 0 before it is stored.</param>
/// <param name="Received">When the message was stored.</param>
/// <param name="EnvelopeFrom">The SMTP reverse path (MAIL FROM), empty for the null sender.</param>
/// <param name="EnvelopeTo">The SMTP recipients (RCPT TO).</param>
/// <param name="From">The From header, decoded; empty when absent or unparseable.</param>
/// <param name="To">The To and Cc header mailboxes, decoded.</param>
/// <param name="Subject">The Subject header, decoded; empty when absent.</param>
/// <param name="Date">The Date header, when present and valid.</param>
/// <param name="Size">The message size in octets.</param>
/// <param name="ParseError">Why MimeKit could not parse the message, or null.</param>
internal sealed record MessageRecord(
    long Id,
    DateTimeOffset Received,
    string EnvelopeFrom,
    IReadOnlyList<string> EnvelopeTo,
    string From,
    IReadOnlyList<string> To,
    string Subject,
    DateTimeOffset? Date,
    long Size,
    string? ParseError);
