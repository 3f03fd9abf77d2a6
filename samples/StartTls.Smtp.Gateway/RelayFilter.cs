namespace StartTls.Smtp.Gateway;

/// <summary>
/// The relay policy, checked at RCPT: the MX endpoint takes mail for the relay domains only, the submission endpoint
/// takes anything from authenticated users; every other recipient gets 550 5.7.1 (no open relay). A recipient the
/// policy allows is then forwarded upstream, and the upstream's verdict is the client's reply. When the client's
/// transaction ends before its content went upstream, the upstream's ends too (<see cref="OnTransactionEndedAsync"/>).
/// </summary>
internal sealed class RelayFilter(GatewayOptions options, UpstreamRelay relay) : IMailboxFilter, ITransactionEndHook
{
    /// <inheritdoc/>
    public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken)
        => ValueTask.FromResult(GatewayOptions.IsSubmission(session) && !session.IsAuthenticated ? SmtpReply.AuthenticationRequired : SmtpReply.SenderOk);

    /// <inheritdoc/>
    // <readme:gateway-filter>
    public async ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient,
        CancellationToken cancellationToken)
    {
        var mayRelay = session.IsAuthenticated
            || (!GatewayOptions.IsSubmission(session) && options.IsRelayDomain(recipient.Mailbox.Domain));
        if (!mayRelay)
        {
            return SmtpReply.RelayDenied; // 550 5.7.1: never an open relay
        }

        // Connects (and sends MAIL) at the first recipient, then asks the upstream about this one:
        // its 250, 450 or 550 is the client's reply.
        return await relay.RecipientAsync(session, envelope, recipient, cancellationToken);
    }
    // </readme:gateway-filter>

    /// <inheritdoc/>
    public ValueTask OnTransactionEndedAsync(SmtpTransaction transaction, SmtpTransactionEndReason reason)
        // Closed: the session handler QUITs the upstream. Any other end (RSET, EHLO again, content answered or refused
        // here) leaves no MAIL open upstream.
        => reason == SmtpTransactionEndReason.Closed ? ValueTask.CompletedTask : relay.EndAsync(transaction.Session, transaction.Envelope);
}
