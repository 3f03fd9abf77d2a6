namespace StartTls.Smtp.Gateway;

/// <summary>
/// One client session's upstream connection and the state of the mail transaction open on it; kept in
/// <see cref="SmtpSession.Items"/> from the first relayed RCPT until the session closes.
/// </summary>
internal sealed class UpstreamTransaction(UpstreamClient client)
{
    /// <summary>The connection to the upstream.</summary>
    public UpstreamClient Client { get; } = client;

    /// <summary>The envelope whose MAIL FROM the upstream has seen, or null when no transaction is open upstream.</summary>
    public SmtpEnvelope? Envelope { get; set; }

    /// <summary>The upstream's refusal of that MAIL FROM, repeated for each RCPT of the transaction.</summary>
    public SmtpReply? MailRefusal { get; set; }

    /// <summary>The recipients the upstream accepted in the open transaction.</summary>
    public List<SmtpRecipient> Accepted { get; } = [];
}
