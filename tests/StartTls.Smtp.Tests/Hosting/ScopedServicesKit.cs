using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Tests.Hosting;

/// <summary>One row per stored message, written by <see cref="DbMessageStore"/> through its scoped <see cref="MailDb"/>.</summary>
public sealed class DeliveredMessage
{
    public int Id { get; set; }

    public string SessionId { get; set; } = "";

    public int Recipients { get; set; }

    public long Size { get; set; }

    public Guid DbContextId { get; set; }
}

/// <summary>A real EF Core context on SQLite, registered scoped (AddDbContext); it reports its creation and disposal.</summary>
public sealed class MailDb : DbContext
{
    private readonly ScopeTracker _tracker;

    public MailDb(DbContextOptions<MailDb> options, ScopeTracker tracker)
        : base(options)
    {
        _tracker = tracker;
        tracker.Created(this);
    }

    public DbSet<DeliveredMessage> Messages => Set<DeliveredMessage>();

    public Guid InstanceId => ContextId.InstanceId;

    public override void Dispose()
    {
        base.Dispose();
        _tracker.Disposed(this);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        _tracker.Disposed(this);
    }
}

/// <summary>What the scoped services saw: which context each used, which were created and which disposed.</summary>
public sealed class ScopeTracker
{
    private readonly ConcurrentQueue<(string Who, Guid Context)> _uses = new();
    private readonly ConcurrentDictionary<Guid, int> _created = new();
    private readonly ConcurrentDictionary<Guid, int> _disposed = new();
    private readonly object _gate = new();
    private readonly List<(int Count, TaskCompletionSource Done)> _waiters = [];

    public IReadOnlyCollection<(string Who, Guid Context)> Uses => _uses;

    public ICollection<Guid> CreatedContexts => _created.Keys;

    public ICollection<Guid> DisposedContexts => _disposed.Keys;

    /// <summary>Set by the store when it starts reading a message.</summary>
    public TaskCompletionSource StoreStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Forgets the contexts seen so far (the one that created the schema).</summary>
    public void Reset()
    {
        _created.Clear();
        _disposed.Clear();
    }

    public void Used(string who, MailDb db) => _uses.Enqueue((who, db.InstanceId));

    public Guid ContextOf(string who) => _uses.Single(u => u.Who == who).Context;

    public void Created(MailDb db) => _created[db.InstanceId] = 1;

    public void Disposed(MailDb db)
    {
        // EF Core may be disposed twice (Dispose after DisposeAsync); count each context once.
        _disposed.AddOrUpdate(db.InstanceId, 1, static (_, n) => n + 1);
        lock (_gate)
        {
            foreach (var (count, done) in _waiters)
            {
                if (_disposed.Count >= count)
                {
                    done.TrySetResult();
                }
            }
        }
    }

    /// <summary>Completes once <paramref name="count"/> distinct contexts have been disposed.</summary>
    public Task WaitForDisposalsAsync(int count)
    {
        lock (_gate)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (_disposed.Count >= count)
            {
                done.TrySetResult();
            }

            _waiters.Add((count, done));
            return done.Task;
        }
    }
}

/// <summary>A scoped store: one row per message through the transaction's DbContext.</summary>
public sealed class DbMessageStore(MailDb db, ScopeTracker tracker) : IMessageStore
{
    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        tracker.Used("store#" + session.MessageCount, db);

        // SmtpSession.Services is the transaction's scope: the same DbContext as the one injected.
        var fromScope = session.Services!.GetService(typeof(MailDb));
        if (!ReferenceEquals(fromScope, db))
        {
            return SmtpReply.TemporaryFailure;
        }

        tracker.StoreStarted.TrySetResult();
        var size = 0L;
        var buffer = new byte[4096];
        int read;
        while ((read = await content.ReadAsync(buffer, cancellationToken)) > 0)
        {
            size += read;
        }

        db.Messages.Add(new DeliveredMessage { SessionId = session.Id, Recipients = envelope.Recipients.Count, Size = size, DbContextId = db.InstanceId });
        await db.SaveChangesAsync(cancellationToken);
        return SmtpReply.MessageAccepted;
    }
}

/// <summary>A scoped filter: notes its context at MAIL and RCPT; refuses recipients at refused.test.</summary>
public sealed class DbMailboxFilter(MailDb db, ScopeTracker tracker) : IMailboxFilter
{
    private int _transaction = -1;

    public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken)
    {
        // One filter per transaction: a second MAIL through the same instance would be a scope leak.
        if (_transaction >= 0)
        {
            return ValueTask.FromResult(SmtpReply.TemporaryFailure);
        }

        _transaction = session.MessageCount;
        if (envelope.From?.Address.EndsWith("@refused.test", StringComparison.Ordinal) == true)
        {
            tracker.Used("filter-refused-sender", db);
            return ValueTask.FromResult(SmtpReply.AccessDenied);
        }

        tracker.Used("filter-mail#" + _transaction, db);
        return ValueTask.FromResult(SmtpReply.SenderOk);
    }

    public ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken)
    {
        tracker.Used("filter-rcpt#" + _transaction, db);
        return ValueTask.FromResult(recipient.Mailbox.Address.EndsWith("@refused.test", StringComparison.Ordinal) ? SmtpReply.MailboxUnavailable : SmtpReply.RecipientOk);
    }
}

/// <summary>A scoped session handler: notes its context at connect and at close.</summary>
public sealed class DbSessionHandler(MailDb db, ScopeTracker tracker) : ISessionHandler
{
    public ValueTask<SmtpReply?> OnConnectedAsync(SmtpSession session, CancellationToken cancellationToken)
    {
        tracker.Used("handler-connected", db);
        return ValueTask.FromResult<SmtpReply?>(null);
    }

    public ValueTask OnClosedAsync(SmtpSession session)
    {
        tracker.Used("handler-closed", db);
        return ValueTask.CompletedTask;
    }
}
