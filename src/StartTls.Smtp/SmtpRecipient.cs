namespace StartTls.Smtp;

/// <summary>One accepted <c>RCPT TO</c>: the mailbox and the ESMTP parameters that came with it.</summary>
public sealed class SmtpRecipient
{
    /// <summary>Creates a recipient.</summary>
    /// <param name="mailbox">The recipient's mailbox.</param>
    /// <param name="parameters">The RCPT parameters, keyed case-insensitively; a parameter without a value maps to <see langword="null"/>.</param>
    public SmtpRecipient(SmtpMailbox mailbox, IReadOnlyDictionary<string, string?> parameters)
    {
        ArgumentNullException.ThrowIfNull(mailbox);
        ArgumentNullException.ThrowIfNull(parameters);
        Mailbox = mailbox;
        Parameters = parameters;
    }

    /// <summary>The recipient's mailbox.</summary>
    public SmtpMailbox Mailbox { get; }

    /// <summary>The RCPT TO parameters, keyed case-insensitively.</summary>
    public IReadOnlyDictionary<string, string?> Parameters { get; }

    /// <summary>The RCPT parameter <c>NOTIFY</c> (RFC 3461 §4.1): which delivery status notifications the sender wants.</summary>
    public DsnNotify DsnNotify { get; init; }

    /// <summary>The RCPT parameter <c>ORCPT</c> (RFC 3461 §4.2), decoded; <see langword="null"/> when absent.</summary>
    public SmtpOriginalRecipient? OriginalRecipient { get; init; }

    /// <inheritdoc />
    public override string ToString() => Mailbox.Address;
}
