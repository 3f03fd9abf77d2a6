using Microsoft.Extensions.Logging;

namespace StartTls.Smtp.MailCatcher;

/// <summary>The mail catcher's log messages (source-generated). Never logs message content or passwords.</summary>
internal static partial class CatcherLog
{
    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Caught message {Id} ({Size} bytes) from <{Sender}>")]
    public static partial void MessageStored(ILogger logger, long id, long size, string sender);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Warning, Message = "Message {Id} could not be parsed as MIME; kept raw: {Reason}")]
    public static partial void MessageUnparseable(ILogger logger, long id, string reason);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Error, Message = "Could not store a message; the client was told to retry (451 4.3.0)")]
    public static partial void StoreFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 9004, Level = LogLevel.Information, Message = "Mail catcher ready: web page and API on {WebUrl}, SMTP (STARTTLS) on {SmtpEndPoint}, messages in {DatabasePath} (newest {Keep} kept)")]
    public static partial void Ready(ILogger logger, string webUrl, string smtpEndPoint, string databasePath, int keep);

    [LoggerMessage(EventId = 9005, Level = LogLevel.Information, Message = "SMTP requires AUTH PLAIN or LOGIN as {UserName}")]
    public static partial void AuthenticationRequired(ILogger logger, string userName);
}
