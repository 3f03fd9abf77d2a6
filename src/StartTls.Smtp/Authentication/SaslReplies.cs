namespace StartTls.Smtp.Authentication;

/// <summary>The replies of the AUTH exchange (RFC 4954 §4, §6).</summary>
internal static class SaslReplies
{
    public static readonly SmtpReply Succeeded = new(235, "2.7.0", "Authentication successful");
    public static readonly SmtpReply InvalidCredentials = new(535, "5.7.8", "Authentication credentials invalid");
    public static readonly SmtpReply Cancelled = new(501, "5.0.0", "Authentication cancelled");
    public static readonly SmtpReply BadBase64 = new(501, "5.5.2", "Cannot decode response");
    public static readonly SmtpReply Malformed = new(501, "5.5.2", "Malformed authentication response");
    public static readonly SmtpReply UnknownMechanism = new(504, "5.5.4", "Unrecognized authentication type");
    public static readonly SmtpReply InitialResponseNotAllowed = new(501, "5.7.0", "Initial response not allowed for this mechanism");
    public static readonly SmtpReply SendEhloFirst = new(503, "5.5.1", "Send EHLO first");
    public static readonly SmtpReply AlreadyAuthenticated = new(503, "5.5.1", "Already authenticated");
    public static readonly SmtpReply InTransaction = new(503, "5.5.1", "AUTH not allowed inside a mail transaction");
    public static readonly SmtpReply Syntax = new(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
    public static readonly SmtpReply TooManyFailures = new(421, "4.7.0", "Too many authentication failures, closing connection");
    public static readonly SmtpReply LineTooLong = new(500, "5.5.6", "Authentication exchange line is too long");
    public static readonly SmtpReply AuthenticationRequired = new(530, "5.7.0", "Authentication required");
    public static readonly SmtpReply TemporaryFailure = new(454, "4.7.0", "Temporary authentication failure");
}
