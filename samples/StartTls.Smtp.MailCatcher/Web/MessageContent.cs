using MimeKit;
using StartTls.Smtp.MailCatcher.Storage;

namespace StartTls.Smtp.MailCatcher.Web;

/// <summary>Reads a stored message's parts with MimeKit for the API: headers, bodies, attachments.</summary>
internal static class MessageContent
{
    /// <summary>The message's details; bodies and attachments are empty when it cannot be parsed.</summary>
    /// <param name="record">The stored summary.</param>
    /// <param name="raw">The raw message.</param>
    /// <returns>The details.</returns>
    public static MessageDetail Describe(MessageRecord record, byte[] raw)
    {
        var summary = MessageSummary.Of(record);
        var headers = new List<HeaderField>();
        var attachments = new List<AttachmentInfo>();
        string? text = null;
        string? html = null;
        var parseError = record.ParseError;
        if (TryLoad(raw, out var message, ref parseError))
        {
            using (message)
            {
                foreach (var header in message.Headers)
                {
                    headers.Add(new HeaderField(header.Field, header.Value));
                }

                text = message.TextBody;
                html = message.HtmlBody;
                var index = 0;
                foreach (var attachment in message.Attachments)
                {
                    using var decoded = new MemoryStream();
                    WriteDecoded(attachment, decoded);
                    attachments.Add(new AttachmentInfo(index, FileName(attachment, index), attachment.ContentType.MimeType, decoded.Length));
                    index++;
                }
            }
        }

        return new MessageDetail(
            summary.Id, summary.From, summary.To, summary.Subject, summary.Date, summary.Size, record.Received,
            new EnvelopeInfo(record.EnvelopeFrom, record.EnvelopeTo), headers, text, html, attachments, parseError);
    }

    /// <summary>
    /// The HTML body with its inline images (<c>cid:</c> references to parts of the message) turned into <c>data:</c>
    /// URLs, the only images the HTML view's policy loads; null when there is no HTML body.
    /// </summary>
    /// <param name="raw">The raw message.</param>
    /// <returns>The HTML.</returns>
    public static string? Html(byte[] raw)
    {
        string? error = null;
        if (!TryLoad(raw, out var message, ref error))
        {
            return null;
        }

        using (message)
        {
            if (message.HtmlBody is not { } html)
            {
                return null;
            }

            foreach (var part in message.BodyParts)
            {
                if (part is MimePart { ContentId: { Length: > 0 } contentId, Content: not null } inline
                    && inline.ContentType.MediaType.Equals("image", StringComparison.OrdinalIgnoreCase)
                    && html.Contains("cid:" + contentId, StringComparison.OrdinalIgnoreCase))
                {
                    using var decoded = new MemoryStream();
                    inline.Content.DecodeTo(decoded);
                    var dataUrl = "data:" + inline.ContentType.MimeType + ";base64," + Convert.ToBase64String(decoded.GetBuffer(), 0, (int)decoded.Length);
                    html = html.Replace("cid:" + contentId, dataUrl, StringComparison.OrdinalIgnoreCase);
                }
            }

            return html;
        }
    }

    /// <summary>Attachment number <paramref name="index"/>, decoded, or null when there is no such attachment.</summary>
    /// <param name="raw">The raw message.</param>
    /// <param name="index">Its position, from 0.</param>
    /// <returns>The file name and decoded bytes.</returns>
    public static (string FileName, byte[] Content)? Attachment(byte[] raw, int index)
    {
        string? error = null;
        if (index < 0 || !TryLoad(raw, out var message, ref error))
        {
            return null;
        }

        using (message)
        {
            var current = 0;
            foreach (var attachment in message.Attachments)
            {
                if (current++ == index)
                {
                    using var decoded = new MemoryStream();
                    WriteDecoded(attachment, decoded);
                    return (FileName(attachment, index), decoded.ToArray());
                }
            }

            return null;
        }
    }

    private static bool TryLoad(byte[] raw, out MimeMessage message, ref string? error)
    {
        try
        {
            message = MimeMessage.Load(new MemoryStream(raw, writable: false));
            return true;
        }
        catch (FormatException ex)
        {
            error ??= ex.Message;
            message = null!;
            return false;
        }
    }

    private static void WriteDecoded(MimeEntity attachment, Stream destination)
    {
        switch (attachment)
        {
            case MimePart part when part.Content is not null:
                part.Content.DecodeTo(destination);
                break;
            case MessagePart { Message: { } attached }:
                attached.WriteTo(destination);
                break;
            default:
                attachment.WriteTo(destination, contentOnly: true);
                break;
        }
    }

    private static string FileName(MimeEntity attachment, int index)
    {
        var name = attachment is MimePart part ? part.FileName : attachment.ContentDisposition?.FileName;
        if (string.IsNullOrWhiteSpace(name))
        {
            return attachment is MessagePart
                ? FormattableString.Invariant($"attachment-{index}.eml")
                : FormattableString.Invariant($"attachment-{index}.bin");
        }

        // Only the last path segment: a file name is not a place to write to.
        return Path.GetFileName(name.Replace('\\', '/'));
    }
}
