namespace StartTls.Smtp.Storage;

/// <summary>Options of <see cref="MaildirMessageStore"/>. The store reads them once, when it is created.</summary>
public sealed class MaildirStoreOptions
{
    /// <summary>
    /// The root of the Maildir; <c>tmp</c>, <c>new</c> and <c>cur</c> are created under it when missing.
    /// A relative path is resolved against the current directory. Default <c>mail</c>.
    /// </summary>
    public string Path { get; set; } = "mail";

    /// <summary>
    /// Whether to prepend a <c>Return-Path</c> header and a <c>Received</c> trace header (RFC 5321 §4.4) to each
    /// message. The <c>Received</c> header names a single recipient only when the message has exactly one, so
    /// Bcc recipients are not disclosed to each other. Default <see langword="true"/>.
    /// </summary>
    public bool AddTraceHeaders { get; set; } = true;

    /// <summary>
    /// The host name written in the <c>by</c> clause of the <c>Received</c> header.
    /// Default (<see langword="null"/>): <see cref="Environment.MachineName"/>.
    /// </summary>
    public string? ServerName { get; set; }

    /// <summary>
    /// Whether to fsync the <c>new</c> directory after moving a message into it, so that the move itself survives
    /// a power failure; no message is acknowledged before. Messages arriving together share one fsync (it covers every
    /// message moved in before it began). Done on Linux and macOS; ignored elsewhere. Default <see langword="true"/>.
    /// </summary>
    public bool FsyncDirectory { get; set; } = true;

    /// <summary>
    /// Files in <c>tmp</c> last written longer ago than this are removed, when the store is created and then every
    /// <see cref="TmpCleanupInterval"/>: a crash between the creation of a file and its move into <c>new</c> leaves it
    /// there. At least 2 hours, so a message still arriving is never removed (it may take at most the server's
    /// <c>DataTimeout</c>, at most one hour). Default 36 hours, the Maildir convention.
    /// </summary>
    public TimeSpan TmpMaxAge { get; set; } = TimeSpan.FromHours(36);

    /// <summary>How often <c>tmp</c> is searched for files older than <see cref="TmpMaxAge"/>. From 1 minute to 1 day. Default 1 hour.</summary>
    public TimeSpan TmpCleanupInterval { get; set; } = TimeSpan.FromHours(1);
}
