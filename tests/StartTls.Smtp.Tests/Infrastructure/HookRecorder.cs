using System.Collections.Concurrent;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// One event log shared by a <see cref="RecordingSessionHooks"/>, a <see cref="RecordingTransactionFilter"/> and a
/// <see cref="RecordingStore"/>: the order the server called them in, and a signal when the session has closed.
/// </summary>
public sealed class HookLog
{
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ConcurrentQueue<string> Events { get; } = new();

    /// <summary>Each transaction seen by a hook, in order (the same object for every hook of one transaction).</summary>
    public ConcurrentQueue<SmtpTransaction> Transactions { get; } = new();

    /// <summary>Completes when the session handler's close hook has run (after every transaction end).</summary>
    public Task Closed => _closed.Task;

    public void Add(string e) => Events.Enqueue(e);

    public void Seen(SmtpTransaction? transaction)
    {
        if (transaction is not null && !Transactions.Contains(transaction))
        {
            Transactions.Enqueue(transaction);
        }
    }

    public void SignalClosed() => _closed.TrySetResult();
}

/// <summary>A session handler with the greeting and AUTH hooks: records each call and answers with the given functions.</summary>
public sealed class RecordingSessionHooks(HookLog log, Func<SmtpSession, SmtpReply?>? greeting = null, Func<SmtpSession, SmtpReply?>? authenticated = null)
    : ISessionHandler, IGreetingHook, IAuthenticatedHook
{
    public ValueTask<SmtpReply?> OnConnectedAsync(SmtpSession session, CancellationToken cancellationToken)
    {
        log.Add("connected");
        return default;
    }

    public ValueTask OnClosedAsync(SmtpSession session)
    {
        log.Add("closed");
        log.SignalClosed();
        return default;
    }

    public ValueTask<SmtpReply?> OnGreetingAsync(SmtpSession session, CancellationToken cancellationToken)
    {
        log.Add($"greeting {session.HeloName} extended={session.IsExtended}");
        return new(greeting?.Invoke(session));
    }

    public ValueTask<SmtpReply?> OnAuthenticatedAsync(SmtpSession session, CancellationToken cancellationToken)
    {
        log.Add($"authenticated {session.AuthenticatedIdentity} {session.AuthenticationMechanism}");
        return new(authenticated?.Invoke(session));
    }
}

/// <summary>
/// A mailbox filter with the transaction hooks: records each call (with the transaction's <c>Items</c> counter, which
/// each call increments) and answers with the given functions.
/// </summary>
public sealed class RecordingTransactionFilter(
    HookLog log,
    Func<SmtpTransaction, SmtpReply?>? messageStart = null,
    Func<SmtpTransaction, SmtpReply, SmtpReply>? verdict = null)
    : IMailboxFilter, IMessageStartHook, IMessageVerdictHook, ITransactionEndHook
{
    public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken)
    {
        var transaction = session.Transaction!;
        log.Seen(transaction);
        log.Add($"mail {envelope.From} items={Count(transaction)} same-envelope={ReferenceEquals(transaction.Envelope, envelope)}");
        return new(envelope.From?.LocalPart == "refused" ? SmtpReply.PolicyRejection : SmtpReply.SenderOk);
    }

    public ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken)
    {
        log.Seen(session.Transaction);
        log.Add($"rcpt {recipient} items={Count(session.Transaction!)}");
        return new(SmtpReply.RecipientOk);
    }

    public ValueTask<SmtpReply?> OnMessageStartingAsync(SmtpTransaction transaction, CancellationToken cancellationToken)
    {
        log.Seen(transaction);
        log.Add($"start recipients={transaction.Envelope.Recipients.Count} items={Count(transaction)}");
        return new(messageStart?.Invoke(transaction));
    }

    public ValueTask<SmtpReply> OnMessageReceivedAsync(SmtpTransaction transaction, SmtpReply storeReply, CancellationToken cancellationToken)
    {
        log.Seen(transaction);
        log.Add($"verdict store={storeReply.Code} items={Count(transaction)}");
        return new(verdict?.Invoke(transaction, storeReply) ?? storeReply);
    }

    public ValueTask OnTransactionEndedAsync(SmtpTransaction transaction, SmtpTransactionEndReason reason)
    {
        log.Seen(transaction);
        log.Add($"end {reason} reply={transaction.MessageReply?.Code.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"} current={ReferenceEquals(transaction.Session.Transaction, transaction)}");
        return default;
    }

    /// <summary>Increments and returns the transaction's call counter in <see cref="SmtpTransaction.Items"/>.</summary>
    private static int Count(SmtpTransaction transaction)
    {
        var count = transaction.Items.TryGetValue("calls", out var value) ? (int)value! : 0;
        transaction.Items["calls"] = ++count;
        return count;
    }
}

/// <summary>A store that records its call, reads the whole content and answers with the given reply (or throws).</summary>
public sealed class RecordingStore(HookLog log, SmtpReply? reply = null, bool fail = false) : IMessageStore
{
    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        log.Add($"save {buffer.Length} bytes");
        session.Transaction!.Items["stored"] = true;
        if (fail)
        {
            throw new IOException("disk gone");
        }

        return reply ?? SmtpReply.MessageAccepted;
    }
}
