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

    /// <summary>The MAIL parameter <c>RET</c> (RFC 3461 §4.3): how much of the message a failure report should return.</summary>
    public DsnReturn DsnReturn { get; internal init; }

    /// <summary>
    /// The MAIL parameter <c>ENVID</c> (RFC 3461 §4.4), decoded from xtext: the sender's identifier for this
    /// transaction, to be passed on when relaying and quoted in delivery status notifications; <see langword="null"/> when absent.
    /// </summary>
    public string? DsnEnvelopeId { get; internal init; }

    /// <summary>
    /// True when the client sent the MAIL parameter <c>REQUIRETLS</c> (RFC 8689): the message must travel only over
    /// TLS with a validated certificate from here on. It is accepted only on a TLS session; a relay that cannot meet
    /// it must refuse or return the message, never send it in clear.
    /// </summary>
    public bool RequireTls { get; internal init; }

    /// <summary>The recipients accepted so far, in the order they were given.</summary>
    public IReadOnlyList<SmtpRecipient> Recipients => _recipients;

    internal void AddRecipient(SmtpRecipient recipient) => _recipients.Add(recipient);

    /// <summary>Creates an envelope for a unit test of a filter, a store or a hook, without a connection.</summary>
    /// <param name="from">The reverse path, or <see langword="null"/> for <c>&lt;&gt;</c>.</param>
    /// <param name="recipients">The recipients already accepted, or <see langword="null"/> for none.</param>
    /// <param name="mailParameters">The MAIL parameters (keys compared case-insensitively), or <see langword="null"/> for none.</param>
    /// <returns>The envelope: 7-bit body, no SMTPUTF8, no declared size.</returns>
    public static SmtpEnvelope CreateForTesting(SmtpMailbox? from, IEnumerable<SmtpRecipient>? recipients = null, IReadOnlyDictionary<string, string?>? mailParameters = null)
    {
        var parameters = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        if (mailParameters is not null)
        {
            foreach (var (key, value) in mailParameters)
            {
                parameters[key] = value;
            }
        }

        var envelope = new SmtpEnvelope(from, parameters, null, SmtpBodyType.Unspecified, false);
        if (recipients is not null)
        {
            foreach (var recipient in recipients)
            {
                envelope.AddRecipient(recipient);
            }
        }

        return envelope;
    }
}
