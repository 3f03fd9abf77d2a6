namespace StartTls.Smtp.Storage;

/// <summary>
/// The durable tail of one <see cref="MaildirMessageStore.SaveAsync"/>, run on a <see cref="SyncWorkerPool"/> thread:
/// write the last block of the file in <c>tmp/</c>, fsync it, close it, move it into <c>new/</c>, then wait for the
/// group sync of <c>new/</c>. <see cref="Completion"/> completes once the message is on disk, or fails once nothing
/// of it is left.
/// </summary>
internal sealed class MaildirDelivery : ISyncWorkItem, IDirectorySyncWaiter
{
    private readonly MaildirMessageStore _store;
    private readonly string _tmpPath;
    private readonly string _newPath;
    private readonly ReadOnlyMemory<byte> _content;
    private readonly CancellationToken _cancellationToken;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private FileStream? _file;

    /// <summary>Creates the delivery; <see cref="SyncWorkerPool.Queue"/> it to run it.</summary>
    /// <param name="store">The store (its options, disk calls, batcher and logger).</param>
    /// <param name="tmpPath">The file in <c>tmp/</c>.</param>
    /// <param name="newPath">Where it goes in <c>new/</c>.</param>
    /// <param name="file">The <c>tmp/</c> file, written but for <paramref name="content"/>; the delivery now owns it.</param>
    /// <param name="content">The end of the message, still to write; it must stay valid until <see cref="Completion"/>.</param>
    /// <param name="cancellationToken">Checked for the last time just before the move into <c>new/</c>.</param>
    public MaildirDelivery(MaildirMessageStore store, string tmpPath, string newPath, FileStream file, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        _store = store;
        _tmpPath = tmpPath;
        _newPath = newPath;
        _file = file;
        _content = content;
        _cancellationToken = cancellationToken;
    }

    /// <summary>Completes when the message and its entry in <c>new/</c> are on disk; fails when nothing of it is left.</summary>
    public Task Completion => _completion.Task;

    /// <inheritdoc />
    public void Execute()
    {
        try
        {
            _file!.Write(_content.Span);
            _store.Disk.FlushFile(_file);
            _file.Dispose();
            _file = null;

            // The last moment to give up: once the message is in new/ it is delivered.
            _cancellationToken.ThrowIfCancellationRequested();
            File.Move(_tmpPath, _newPath, overwrite: false);
        }
        catch (Exception ex)
        {
            Cleanup(_tmpPath);
            Fail(ex);
            return;
        }

        if (_store.DirectoryBatcher is { } batcher)
        {
            batcher.Add(this);
        }
        else
        {
            _completion.TrySetResult();
        }
    }

    /// <inheritdoc />
    public void OnDirectorySynced(Exception? error)
    {
        if (error is null)
        {
            _completion.TrySetResult();
            return;
        }

        // The move may or may not be on disk: take the message back out, so the client's retry is not a duplicate
        // (unless the machine crashes before the delete reaches the disk).
        Cleanup(_newPath);
        Fail(error);
    }

    // Runs on a sync thread, where an exception (a throwing logger, say) would end the process: swallow it.
    private void Cleanup(string path)
    {
        try
        {
            _file?.Dispose();
        }
        catch (Exception)
        {
            // The descriptor is released anyway; what matters is that the file goes.
        }

        _file = null;
        try
        {
            _store.TryDelete(path);
        }
        catch (Exception)
        {
        }
    }

    private void Fail(Exception error)
    {
        if (error is OperationCanceledException canceled)
        {
            _completion.TrySetCanceled(canceled.CancellationToken);
        }
        else
        {
            _completion.TrySetException(error);
        }
    }
}
