namespace StartTls.Smtp.Protocol;

/// <summary>The HELP replies, built once per command set like the EHLO replies.</summary>
internal sealed partial class ProtocolSettings
{
    // Indexed by the four flags of GetHelpReply; filled on first use (a benign race builds an equal reply twice at most).
    private readonly SmtpReply?[] _helpReplies = new SmtpReply?[16];

    /// <summary>
    /// The reply to <c>HELP</c> (RFC 5321 §4.1.1.8): the commands this session accepts now, so it names LHLO on an
    /// LMTP endpoint, BDAT when CHUNKING is on, and STARTTLS, AUTH and XCLIENT only when the EHLO reply offers them.
    /// </summary>
    public SmtpReply GetHelpReply(bool lmtp, bool offerStartTls, bool offerAuthentication, bool offerXclient)
    {
        var index = (lmtp ? 1 : 0) | (offerStartTls ? 2 : 0) | (offerAuthentication ? 4 : 0) | (offerXclient ? 8 : 0);
        return Volatile.Read(ref _helpReplies[index])
            ?? (_helpReplies[index] = BuildHelpReply(lmtp, offerStartTls, offerAuthentication, offerXclient));
    }

    private SmtpReply BuildHelpReply(bool lmtp, bool offerStartTls, bool offerAuthentication, bool offerXclient)
    {
        var commands = new System.Text.StringBuilder("Commands:");
        commands.Append(lmtp ? " LHLO" : " EHLO HELO");
        if (offerStartTls)
        {
            commands.Append(" STARTTLS");
        }

        if (offerAuthentication)
        {
            commands.Append(" AUTH");
        }

        commands.Append(" MAIL RCPT DATA");
        if (EnableChunking)
        {
            commands.Append(" BDAT");
        }

        commands.Append(" RSET NOOP QUIT VRFY HELP");
        if (offerXclient)
        {
            commands.Append(" XCLIENT");
        }

        commands.Append(lmtp ? "\nSee RFC 2033 and RFC 5321" : "\nSee RFC 5321");
        return new SmtpReply(214, "2.0.0", commands.ToString());
    }
}
