using System.Globalization;

namespace StartTls.Smtp;

/// <summary>
/// An SMTP reply: a three-digit code, an optional enhanced status code (RFC 3463) and human-readable text.
/// Extension points return replies as values instead of throwing; the server writes them to the client.
/// </summary>
/// <remarks>
/// Text lines are sent as US-ASCII: control characters and non-ASCII characters are replaced with <c>?</c>,
/// so a reply can never inject a line break or echo 8-bit data. A message containing <c>\n</c> becomes a
/// multiline reply, with the enhanced status code repeated on every line (RFC 2034).
/// </remarks>
public sealed class SmtpReply
{
    /// <summary>Creates a reply.</summary>
    /// <param name="code">The reply code, from 200 to 599.</param>
    /// <param name="enhancedStatusCode">The RFC 3463 code such as <c>2.0.0</c>, or <see langword="null"/> when there is none (3xx replies, greetings).</param>
    /// <param name="message">The text; may contain <c>\n</c> for a multiline reply.</param>
    /// <exception cref="ArgumentOutOfRangeException">The code or the enhanced status code is malformed.</exception>
    public SmtpReply(int code, string? enhancedStatusCode, string message)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(code, 200);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(code, 599);
        ArgumentNullException.ThrowIfNull(message);
        if (enhancedStatusCode is not null && !IsValidEnhancedCode(code, enhancedStatusCode))
        {
            throw new ArgumentOutOfRangeException(nameof(enhancedStatusCode), enhancedStatusCode,
                "An enhanced status code has the form class.subject.detail and its class matches the reply code's first digit.");
        }

        Code = code;
        EnhancedStatusCode = enhancedStatusCode;
        Message = message;
    }

    private byte[]? _wire;

    /// <summary>The three-digit reply code.</summary>
    public int Code { get; }

    /// <summary>The RFC 3463 enhanced status code, such as <c>2.1.5</c>, or <see langword="null"/>.</summary>
    public string? EnhancedStatusCode { get; }

    /// <summary>The reply text.</summary>
    public string Message { get; }

    /// <summary>True for 2xx replies: the command succeeded.</summary>
    public bool IsPositive => Code is >= 200 and < 300;

    /// <summary>True for 4xx replies: a temporary failure, the client should retry later.</summary>
    public bool IsTransientFailure => Code is >= 400 and < 500;

    /// <summary>True for 5xx replies: a permanent failure.</summary>
    public bool IsPermanentFailure => Code >= 500;

    /// <summary><c>250 2.0.0 OK</c>: the generic success reply.</summary>
    public static SmtpReply Ok { get; } = new(250, "2.0.0", "OK");

    /// <summary><c>250 2.1.0 Sender OK</c>: the default reply to an accepted MAIL FROM.</summary>
    public static SmtpReply SenderOk { get; } = new(250, "2.1.0", "Sender OK");

    /// <summary><c>250 2.1.5 Recipient OK</c>: the default reply to an accepted RCPT TO.</summary>
    public static SmtpReply RecipientOk { get; } = new(250, "2.1.5", "Recipient OK");

    /// <summary><c>250 2.0.0 Message accepted</c>: the default reply once a message is stored.</summary>
    public static SmtpReply MessageAccepted { get; } = new(250, "2.0.0", "Message accepted");

    /// <summary><c>550 5.1.1 Mailbox unavailable</c>: a recipient that does not exist.</summary>
    public static SmtpReply MailboxUnavailable { get; } = new(550, "5.1.1", "Mailbox unavailable");

    /// <summary><c>451 4.3.0 Temporary failure, try again later</c>: a local error; the client keeps the message and retries.</summary>
    public static SmtpReply TemporaryFailure { get; } = new(451, "4.3.0", "Temporary failure, try again later");

    /// <summary><c>450 4.2.0 Greylisted, try again later</c>: the usual greylisting reply.</summary>
    public static SmtpReply Greylisted { get; } = new(450, "4.2.0", "Greylisted, try again later");

    /// <summary><c>554 5.7.1 Access denied</c>: the default reply when a connection is refused.</summary>
    public static SmtpReply AccessDenied { get; } = new(554, "5.7.1", "Access denied");

    /// <summary>
    /// <c>550 5.7.1 Relaying denied</c>: a recipient this server does not accept mail for, from a client that may not
    /// relay (neither authenticated nor trusted).
    /// </summary>
    public static SmtpReply RelayDenied { get; } = new(550, "5.7.1", "Relaying denied");

    /// <summary><c>550 5.7.1 Rejected by policy</c>: a sender, recipient or message the site's policy refuses.</summary>
    public static SmtpReply PolicyRejection { get; } = new(550, "5.7.1", "Rejected by policy");

    /// <summary><c>452 4.2.2 Mailbox full, try again later</c>: the recipient's mailbox is over quota for now.</summary>
    public static SmtpReply MailboxFull { get; } = new(452, "4.2.2", "Mailbox full, try again later");

    /// <summary><c>552 5.2.2 Mailbox full</c>: the recipient's mailbox is over quota and will stay so.</summary>
    public static SmtpReply MailboxFullPermanent { get; } = new(552, "5.2.2", "Mailbox full");

    /// <summary>
    /// <c>450 4.7.1 Rate limit exceeded, try again later</c>: this sender or client sends too much; the command is
    /// refused and the session goes on.
    /// </summary>
    public static SmtpReply RateLimited { get; } = new(450, "4.7.1", "Rate limit exceeded, try again later");

    /// <summary>
    /// <c>421 4.7.0 Too many requests, closing connection</c>: as <see cref="RateLimited"/>, but the server closes the
    /// connection after sending it, as it does after any 421 a hook returns (RFC 5321 §3.8).
    /// </summary>
    public static SmtpReply RateLimitedClosing { get; } = new(421, "4.7.0", "Too many requests, closing connection");

    /// <summary><c>530 5.7.0 Authentication required</c>: this endpoint takes mail only from authenticated clients.</summary>
    public static SmtpReply AuthenticationRequired { get; } = new(530, "5.7.0", "Authentication required");

    /// <summary><c>552 5.3.4 Message too big</c>: the message exceeds a size the store or the recipient accepts.</summary>
    public static SmtpReply MessageTooBig { get; } = new(552, "5.3.4", "Message too big");

    /// <summary><c>452 4.3.1 Insufficient system storage</c>: the store has no room now; the client retries later.</summary>
    public static SmtpReply InsufficientStorage { get; } = new(452, "4.3.1", "Insufficient system storage");

    /// <summary>
    /// <c>451 4.4.1 Next hop unavailable, try again later</c>: a relay could not reach the server it forwards to; the
    /// client keeps the message and retries.
    /// </summary>
    public static SmtpReply UpstreamUnavailable { get; } = new(451, "4.4.1", "Next hop unavailable, try again later");

    /// <summary>
    /// <c>554 5.7.1 Message rejected as spam</c>: a content filter's verdict at the end of the message (the client
    /// should not retry).
    /// </summary>
    public static SmtpReply Spam { get; } = new(554, "5.7.1", "Message rejected as spam");

    /// <inheritdoc />
    public override string ToString() => EnhancedStatusCode is null
        ? string.Create(CultureInfo.InvariantCulture, $"{Code} {Message}")
        : string.Create(CultureInfo.InvariantCulture, $"{Code} {EnhancedStatusCode} {Message}");

    /// <summary>The reply as it goes on the wire, encoded once and reused.</summary>
    internal byte[] WireBytes => _wire ??= Protocol.ReplyEncoder.Encode(this);

    private static bool IsValidEnhancedCode(int code, string value)
    {
        // class "." subject "." detail; class is 2, 4 or 5 and equals the reply's first digit (RFC 3463 §2).
        var parts = value.Split('.');
        if (parts.Length != 3 || parts[0].Length != 1 || parts[0][0] - '0' != code / 100 || parts[0][0] is not ('2' or '4' or '5'))
        {
            return false;
        }

        return IsNumber(parts[1], 3) && IsNumber(parts[2], 3);

        static bool IsNumber(string s, int maxDigits)
        {
            if (s.Length == 0 || s.Length > maxDigits || (s.Length > 1 && s[0] == '0'))
            {
                return false;
            }

            foreach (var c in s)
            {
                if (c is < '0' or > '9')
                {
                    return false;
                }
            }

            return true;
        }
    }
}
