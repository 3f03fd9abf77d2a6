namespace StartTls.Smtp;

/// <summary>
/// The recipient address as the original sender gave it: the RCPT parameter <c>ORCPT</c> (RFC 3461 §4.2), kept so a
/// relay can pass it on and a delivery status notification can name it.
/// </summary>
public sealed class SmtpOriginalRecipient
{
    /// <summary>Creates an original recipient.</summary>
    /// <param name="addressType">The address type, such as <c>rfc822</c> or <c>utf-8</c> (RFC 6533).</param>
    /// <param name="address">The address, decoded from xtext.</param>
    public SmtpOriginalRecipient(string addressType, string address)
    {
        ArgumentException.ThrowIfNullOrEmpty(addressType);
        ArgumentNullException.ThrowIfNull(address);
        AddressType = addressType;
        Address = address;
    }

    /// <summary>The address type as sent, such as <c>rfc822</c> or <c>utf-8</c>.</summary>
    public string AddressType { get; }

    /// <summary>The decoded address.</summary>
    public string Address { get; }

    /// <inheritdoc />
    public override string ToString() => AddressType + ";" + Address;
}
