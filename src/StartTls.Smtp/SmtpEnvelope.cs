namespace StartTls.Smtp;

/// <summary>
/// The envelope of one mail transaction: the reverse path from <c>MAIL FROM</c> with its parameters and
/// every accepted <c>RCPT TO</c>. Per-connection facts live on <see cref="SmtpSession"/>.
/// </summary>
public sealed class SmtpEnvelope
{
    private readonly List<SmtpRecipient> _recipients = [];

    internal SmtpEnvelope(SmtpMailbox? from, IReadOnlyDictionary<string, string?> mailParameters, long? declaredSize, SmtpBodyType bodyType, bool isSmtpUtf8)
    {
        From = from;
        MailParameters = mailParameters;
        DeclaredSize = declaredSize;
        BodyType = bodyType;
        IsSmtpUtf8 = isSmtpUtf8;
    }

    /// <summary>The reverse path, or <see langword="null"/> for the null reverse path <c>&lt;&gt;</c> (bounces).</summary>
    public SmtpMailbox? From { get; }

    /// <summary>The MAIL FROM parameters, keyed case-insensitively; a parameter without a value maps to <see langword="null"/>.</summary>
    public IReadOnlyDictionary<string, string?> MailParameters { get; }

    /// <summary>The size the client declared with <c>SIZE=</c> (RFC 1870), if any.</summary>
    public long? DeclaredSize { get; }

    /// <summary>The declared body type (RFC 6152).</summary>
    public SmtpBodyType BodyType { get; }

    /// <summary>True when the client asked for SMTPUTF8 (RFC 6531): addresses and headers may be UTF-8.</summary>
    public bool IsSmtpUtf8 { get; }

    /// <summary>The recipients accepted so far, in the order they were given.</summary>
    public IReadOnlyList<SmtpRecipient> Recipients => _recipients;

    internal void AddRecipient(SmtpRecipient recipient) => _recipients.Add(recipient);
}
