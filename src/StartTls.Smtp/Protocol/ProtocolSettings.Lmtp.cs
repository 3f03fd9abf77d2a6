namespace StartTls.Smtp.Protocol;

/// <summary>The replies of LMTP endpoints (RFC 2033), built once like the SMTP ones.</summary>
internal sealed partial class ProtocolSettings
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<(bool, bool, string, bool, long), SmtpReply> _lhloReplies = new();

    /// <summary>The 220 greeting of an LMTP endpoint: it names LMTP, so a client that dialled it for SMTP can tell.</summary>
    public SmtpReply LmtpGreeting { get; }

    /// <summary>
    /// The LHLO reply for a capability set: the EHLO list (RFC 2033 §4.1: LHLO is EHLO under another name), with
    /// PIPELINING whatever <see cref="EnablePipelining"/> says (§5 makes it mandatory). Built once per set.
    /// </summary>
    public SmtpReply GetLhloReply(bool offerStartTls, bool secure, string? authMechanisms, bool offerXclient, long maxMessageSize)
        => _lhloReplies.GetOrAdd((offerStartTls, secure, authMechanisms ?? string.Empty, offerXclient, maxMessageSize),
            static (key, self) => self.BuildEhloReply(key.Item1, key.Item2, key.Item3.Length == 0 ? null : key.Item3, key.Item4, key.Item5, lmtp: true), this);
}
