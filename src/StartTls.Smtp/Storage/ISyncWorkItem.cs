namespace StartTls.Smtp.Storage;

/// <summary>Work run on a <see cref="SyncWorkerPool"/> thread.</summary>
internal interface ISyncWorkItem
{
    /// <summary>Does the work. Must not throw: report failures through the item's own completion.</summary>
    void Execute();
}
