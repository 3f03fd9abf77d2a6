using Microsoft.Extensions.Logging;

namespace StartTls.Smtp.Server;

/// <summary>The sample's own log messages; the server logs where it listens itself.</summary>
internal static partial class ServerLog
{
    [LoggerMessage(1, LogLevel.Information, "Storing messages in the Maildir {Path} (new/ holds delivered messages)")]
    public static partial void StoringMessages(ILogger logger, string path);

    [LoggerMessage(2, LogLevel.Information, "Discarding every message (--store null)")]
    public static partial void DiscardingMessages(ILogger logger);

    [LoggerMessage(4, LogLevel.Warning, "STARTTLS uses a self-signed development certificate for localhost ({Path}, {State}); pass --cert and --key for a real one")]
    public static partial void UsingDevelopmentCertificate(ILogger logger, string path, string state);

    [LoggerMessage(3, LogLevel.Information, "SMTP server stopped")]
    public static partial void Stopped(ILogger logger);
}
