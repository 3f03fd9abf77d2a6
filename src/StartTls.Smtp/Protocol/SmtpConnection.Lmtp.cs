namespace StartTls.Smtp.Protocol;

/// <summary>
/// What an LMTP endpoint (RFC 2033) changes in the command phase: the greeting names LMTP, LHLO replaces HELO and EHLO,
/// and DATA without a recipient is a 503. The per-recipient replies to the content are the <see cref="MessageReceiver"/>'s.
/// </summary>
internal sealed partial class SmtpConnection
{
    private static readonly SmtpReply LhloSyntax = new(501, "5.5.4", "Syntax: LHLO domain");
    private static readonly SmtpReply UseLhlo = new(500, "5.5.1", "This is an LMTP service: use LHLO");
    private static readonly SmtpReply SendLhloFirst = new(503, "5.5.1", "Send LHLO first");
    private static readonly SmtpReply LmtpNoValidRecipients = new(503, "5.5.1", "No valid recipients");

    /// <summary>The 220 greeting of this endpoint: <c>ESMTP</c> or <c>LMTP</c>.</summary>
    private SmtpReply Greeting => _endpoint.IsLmtp ? _settings.LmtpGreeting : _settings.Greeting;

    /// <summary>The reply to MAIL before any greeting.</summary>
    private SmtpReply SendHelloFirst => _endpoint.IsLmtp ? SendLhloFirst : Replies.SendHeloFirst;

    /// <summary>The reply to DATA or BDAT when no recipient was accepted: RFC 2033 §4.2 requires 503 in LMTP.</summary>
    private SmtpReply NoValidRecipients => _endpoint.IsLmtp ? LmtpNoValidRecipients : Replies.NoValidRecipients;

    /// <summary>
    /// HELO, EHLO or LHLO. On an LMTP endpoint only LHLO greets; HELO and EHLO "are not present in LMTP" and must
    /// never get a positive reply (RFC 2033 §4.1, 500 recommended). On an SMTP endpoint LHLO is an unknown command.
    /// </summary>
    private ValueTask<ConnectionAction> Hello(SmtpVerb verb, ReadOnlySpan<byte> arguments)
    {
        if (_endpoint.IsLmtp)
        {
            if (verb != SmtpVerb.Lhlo)
            {
                return Done(Error(UseLhlo));
            }

            var trimmed = arguments.TrimEnd((byte)' ');
            return trimmed.IsEmpty || trimmed.Length > 255 ? Done(Error(LhloSyntax)) : Greet(arguments, extended: true);
        }

        return verb == SmtpVerb.Lhlo ? Done(Error(Replies.CommandUnrecognized)) : Greet(arguments, extended: verb == SmtpVerb.Ehlo);
    }

    /// <summary>The reply to a successful greeting: LHLO's capability list on an LMTP endpoint, else HELO's or EHLO's.</summary>
    private SmtpReply GreetingReply(bool extended)
        => _endpoint.IsLmtp ? _settings.GetLhloReply(OffersStartTls, _session.IsSecure, Sasl?.AdvertisedMechanisms(), _xclientAllowed, MaxMessageSize)
            : !extended ? _settings.HeloReply
            : _settings.GetEhloReply(OffersStartTls, _session.IsSecure, Sasl?.AdvertisedMechanisms(), _xclientAllowed, MaxMessageSize);

    /// <summary>
    /// A refused <c>BDAT … LAST</c> in a transaction with recipients (one that failed at an earlier chunk) answers the
    /// message's end: on an LMTP endpoint the client reads one reply per recipient, so the refusal is written for each
    /// but the last here, and the last by the caller.
    /// </summary>
    private SmtpReply RepeatLmtpRefusal(SmtpReply refusal)
    {
        if (_endpoint.IsLmtp && _chunkLast && _transaction is { } transaction)
        {
            for (var i = 1; i < transaction.Recipients.Count; i++)
            {
                Write(refusal);
            }
        }

        return refusal;
    }
}
