namespace StartTls.Smtp.Storage;

/// <summary>
/// The two durability calls of <see cref="MaildirMessageStore"/>: flushing a file's data and syncing a directory.
/// A seam for tests, which replace it to count, delay or fail syncs.
/// </summary>
internal class DiskSync
{
    /// <summary>The real calls.</summary>
    public static DiskSync Default { get; } = new();

    /// <summary>
    /// Flushes the file's data and the metadata needed to read it back (size, blocks) to disk: <c>fsync</c> on Linux
    /// (measured no slower than <c>fdatasync</c> for a new file: its size and blocks must be written either way),
    /// <c>F_FULLFSYNC</c> on macOS, <c>FlushFileBuffers</c> on Windows.
    /// </summary>
    /// <exception cref="IOException">The flush failed; the data may not be on disk.</exception>
    public virtual void FlushFile(FileStream file) => file.Flush(flushToDisk: true);

    /// <summary>Flushes the directory's entries to disk.</summary>
    /// <returns><see langword="false"/> when the platform cannot sync a directory.</returns>
    /// <exception cref="IOException">The sync failed.</exception>
    public virtual bool SyncDirectory(string path) => DirectorySync.Fsync(path);
}
