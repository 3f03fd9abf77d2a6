namespace StartTls.Smtp.Storage;

/// <summary>A message waiting in a <see cref="DirectorySyncBatcher"/> for its directory entry to reach the disk.</summary>
internal interface IDirectorySyncWaiter
{
    /// <summary>Called once, on the syncing thread, by the first sync that started after the waiter was added.</summary>
    /// <param name="error">Why that sync failed, or <see langword="null"/> when it succeeded. Must not throw.</param>
    void OnDirectorySynced(Exception? error);
}
