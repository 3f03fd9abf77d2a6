namespace StartTls.Smtp.Protocol;

/// <summary>The server's own replies, created once; their wire bytes are cached on first use.</summary>
internal static class Replies
{
    // 2xx
    public static readonly SmtpReply Ok = SmtpReply.Ok;
    public static readonly SmtpReply Bye = new(221, "2.0.0", "Bye");
    public static readonly SmtpReply CannotVrfy = new(252, "2.5.0", "Cannot VRFY user, but will accept message and attempt delivery");
    public static readonly SmtpReply ChunkAccepted = new(250, "2.0.0", "Chunk accepted");

    // 4xx
    public static readonly SmtpReply Timeout = new(421, "4.4.2", "Timeout, closing connection");
    public static readonly SmtpReply TooManyErrors = new(421, "4.7.0", "Too many errors, closing connection");
    public static readonly SmtpReply TooManyConnections = new(421, "4.7.0", "Too many connections, try again later");
    public static readonly SmtpReply TooManyConnectionsFromIp = new(421, "4.7.0", "Too many connections from your address, try again later");
    public static readonly SmtpReply ShuttingDown = new(421, "4.3.2", "Service shutting down, closing connection");
    public static readonly SmtpReply TooManyRecipients = new(452, "4.5.3", "Too many recipients");
    public static readonly SmtpReply LocalError = SmtpReply.TemporaryFailure;
    public static readonly SmtpReply StoreIncomplete = new(451, "4.3.0", "Message store did not take the whole message, try again later");

    // 5xx: syntax
    public static readonly SmtpReply CommandUnrecognized = new(500, "5.5.1", "Command unrecognized");
    public static readonly SmtpReply LineTooLong = new(500, "5.5.2", "Line too long");
    public static readonly SmtpReply BareLineFeed = new(500, "5.5.2", "Bare LF received, lines must end with CRLF");
    public static readonly SmtpReply BareCarriageReturn = new(500, "5.5.2", "Bare CR received, lines must end with CRLF");
    public static readonly SmtpReply NulInCommand = new(501, "5.5.2", "NUL character not allowed");
    public static readonly SmtpReply NulInSender = new(501, "5.1.7", "NUL character not allowed in address");
    public static readonly SmtpReply NulInRecipient = new(501, "5.1.3", "NUL character not allowed in address");
    public static readonly SmtpReply EhloSyntax = new(501, "5.5.4", "Syntax: EHLO domain");
    public static readonly SmtpReply HeloSyntax = new(501, "5.5.4", "Syntax: HELO domain");
    public static readonly SmtpReply GreetingNotAscii = new(501, "5.5.2", "Invalid domain name");
    public static readonly SmtpReply MailSyntax = new(501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]");
    public static readonly SmtpReply RcptSyntax = new(501, "5.5.4", "Syntax: RCPT TO:<address> [parameters]");
    public static readonly SmtpReply BadSenderSyntax = new(501, "5.1.7", "Bad sender address syntax");
    public static readonly SmtpReply BadRecipientSyntax = new(501, "5.1.3", "Bad recipient address syntax");
    public static readonly SmtpReply InvalidUtf8 = new(501, "5.5.2", "Invalid UTF-8 in address");
    public static readonly SmtpReply ParameterSyntax = new(501, "5.5.4", "Invalid parameter syntax");
    public static readonly SmtpReply DuplicateParameter = new(501, "5.5.4", "Duplicate parameter");
    public static readonly SmtpReply SizeSyntax = new(501, "5.5.4", "Invalid SIZE parameter");
    public static readonly SmtpReply BodySyntax = new(501, "5.5.4", "Invalid BODY parameter");
    public static readonly SmtpReply SmtpUtf8Syntax = new(501, "5.5.4", "SMTPUTF8 takes no value");
    public static readonly SmtpReply NoArguments = new(501, "5.5.4", "Syntax error, no parameters allowed");
    public static readonly SmtpReply VrfySyntax = new(501, "5.5.4", "Syntax: VRFY address");
    public static readonly SmtpReply DsnRetSyntax = new(501, "5.5.4", "Invalid RET parameter: FULL or HDRS");
    public static readonly SmtpReply DsnEnvIdSyntax = new(501, "5.5.4", "Invalid ENVID parameter: xtext of at most 100 characters");
    public static readonly SmtpReply DsnNotifySyntax = new(501, "5.5.4", "Invalid NOTIFY parameter: NEVER, or a list of SUCCESS, FAILURE, DELAY");
    public static readonly SmtpReply DsnOrcptSyntax = new(501, "5.5.4", "Invalid ORCPT parameter: addr-type;xtext of at most 500 characters");
    public static readonly SmtpReply RequireTlsSyntax = new(501, "5.5.4", "REQUIRETLS takes no value");
    public static readonly SmtpReply UnsupportedParameter = new(555, "5.5.4", "Unsupported parameter");
    public static readonly SmtpReply NotImplemented = new(502, "5.5.1", "Command not implemented");

    // CHUNKING (RFC 3030)
    public static readonly SmtpReply BdatSyntax = new(501, "5.5.4", "Syntax: BDAT chunk-size [LAST]; the chunk cannot be framed, closing connection");
    public static readonly SmtpReply ChunkSizeOutOfRange = new(552, "5.3.4", "Chunk size exceeds fixed maximum message size; the chunk cannot be skipped, closing connection");
    public static readonly SmtpReply NeedMailBeforeBdat = new(503, "5.5.1", "Need MAIL and RCPT before BDAT");
    public static readonly SmtpReply BdatTransactionFailed = new(503, "5.5.1", "The BDAT transaction failed; send RSET");
    public static readonly SmtpReply DataAfterBdat = new(503, "5.5.1", "DATA cannot follow BDAT in the same transaction; send RSET");
    public static readonly SmtpReply DataWithBinaryMime = new(503, "5.5.1", "BODY=BINARYMIME requires BDAT, not DATA");

    // STARTTLS (RFC 3207)
    public static readonly SmtpReply StartTlsSyntax = new(501, "5.5.4", "Syntax: STARTTLS (no parameters)");
    public static readonly SmtpReply TlsAlreadyActive = new(503, "5.5.1", "TLS already active");
    public static readonly SmtpReply StartTlsInTransaction = new(503, "5.5.1", "STARTTLS not allowed inside a mail transaction");
    public static readonly SmtpReply StartTlsPipelining = new(554, "5.5.0", "Protocol synchronization error: STARTTLS must be the last command in a group");
    public static readonly SmtpReply MustStartTls = new(530, "5.7.0", "Must issue a STARTTLS command first");

    // 5xx: sequence and policy
    public static readonly SmtpReply SendHeloFirst = new(503, "5.5.1", "Send EHLO or HELO first");
    public static readonly SmtpReply NestedMail = new(503, "5.5.1", "Nested MAIL command");
    public static readonly SmtpReply NeedMail = new(503, "5.5.1", "Need MAIL before RCPT");
    public static readonly SmtpReply NeedMailBeforeData = new(503, "5.5.1", "Need MAIL and RCPT before DATA");
    public static readonly SmtpReply NoValidRecipients = new(554, "5.5.1", "No valid recipients");
    public static readonly SmtpReply PipeliningViolation = new(554, "5.5.0", "Protocol synchronization error: DATA must be the last command in a group");
    public static readonly SmtpReply EarlyTalker = new(554, "5.5.0", "Protocol synchronization error: talking before the greeting");
    public static readonly SmtpReply SenderNeedsSmtpUtf8 = new(550, "5.6.7", "Non-ASCII address requires SMTPUTF8");
    public static readonly SmtpReply RecipientNeedsSmtpUtf8 = new(553, "5.6.7", "Non-ASCII address requires SMTPUTF8");
    public static readonly SmtpReply MessageTooLarge = new(552, "5.3.4", "Message size exceeds fixed maximum message size");
    public static readonly SmtpReply DataLineTooLong = new(500, "5.5.2", "Message content line too long");
    public static readonly SmtpReply BareLineEndingInData = new(550, "5.6.0", "Bare CR or LF in message content: send every line ending as CRLF (for example curl --crlf)");
    public static readonly SmtpReply NulInData = new(554, "5.6.0", "NUL character in message content");

    // PROXY protocol and XCLIENT (Postfix's wording for XCLIENT)
    public static readonly SmtpReply ProxyHeaderNotAllowed = new(554, "5.7.0", "PROXY protocol header not accepted from your address");
    public static readonly SmtpReply XclientNotAuthorized = new(550, "5.7.0", "Error: insufficient authorization");
    public static readonly SmtpReply XclientInTransaction = new(503, "5.5.1", "Error: MAIL transaction in progress");
    public static readonly SmtpReply XclientSyntax = new(501, "5.5.4", "Syntax: XCLIENT attribute=value...");
    public static readonly SmtpReply XclientAttributeExpected = new(501, "5.5.4", "Error: attribute=value expected");
    public static readonly SmtpReply XclientValueTooLong = new(501, "5.5.4", "Error: attribute value too long");
}
