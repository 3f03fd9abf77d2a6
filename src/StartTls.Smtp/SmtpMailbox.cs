namespace StartTls.Smtp;

/// <summary>
/// A mailbox from an SMTP envelope (<c>local-part@domain</c>), kept exactly as the client sent it:
/// a quoted local part keeps its quotes, and UTF-8 local parts and domains (SMTPUTF8, RFC 6531) are not
/// converted to A-labels or otherwise normalised.
/// </summary>
public sealed class SmtpMailbox : IEquatable<SmtpMailbox>
{
    /// <summary>Creates a mailbox.</summary>
    /// <param name="localPart">The local part as sent, including quotes if it was a quoted string.</param>
    /// <param name="domain">The domain or address literal (such as <c>[192.0.2.1]</c>); empty only for the special <c>&lt;Postmaster&gt;</c> recipient.</param>
    public SmtpMailbox(string localPart, string domain)
    {
        ArgumentException.ThrowIfNullOrEmpty(localPart);
        ArgumentNullException.ThrowIfNull(domain);
        LocalPart = localPart;
        Domain = domain;
    }

    /// <summary>The local part, as sent.</summary>
    public string LocalPart { get; }

    /// <summary>The domain or address literal, as sent; empty for <c>&lt;Postmaster&gt;</c>.</summary>
    public string Domain { get; }

    /// <summary>The address, <c>local-part@domain</c> (or just the local part for <c>Postmaster</c>).</summary>
    public string Address => Domain.Length == 0 ? LocalPart : LocalPart + "@" + Domain;

    /// <summary>True when the address contains non-ASCII characters and so needs SMTPUTF8.</summary>
    public bool IsInternational => !System.Text.Ascii.IsValid(LocalPart) || !System.Text.Ascii.IsValid(Domain);

    /// <inheritdoc />
    public override string ToString() => Address;

    /// <summary>
    /// Compares two mailboxes. Domains compare case-insensitively (ASCII rules); local parts compare exactly,
    /// because RFC 5321 §2.4 lets only the receiving host interpret them.
    /// </summary>
    public bool Equals(SmtpMailbox? other) => other is not null
        && string.Equals(LocalPart, other.LocalPart, StringComparison.Ordinal)
        && string.Equals(Domain, other.Domain, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as SmtpMailbox);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(
        StringComparer.Ordinal.GetHashCode(LocalPart), StringComparer.OrdinalIgnoreCase.GetHashCode(Domain));
}
