namespace StartTls.Smtp.Protocol;

/// <summary>
/// The transaction object and the hooks around it: the greeting and AUTH hooks of the session handler, the message
/// start, verdict and end hooks of the transaction's mailbox filter. Each is an optional interface, so a server
/// whose application implements none pays one type check per event.
/// </summary>
internal sealed partial class SmtpConnection
{
    private int _transactionNumber;
    private SmtpTransactionEndReason _transactionEndReason;

    /// <summary>Creates the transaction object at <c>MAIL</c>: it ends as <see cref="SmtpTransactionEndReason.Closed"/> unless told otherwise.</summary>
    private void OpenTransaction(SmtpEnvelope envelope)
    {
        _transactionEndReason = SmtpTransactionEndReason.Closed;
        // The id is made only if someone asks for it.
        _session.Transaction = new SmtpTransaction(++_transactionNumber, _session, envelope, _services.Clock.Time.GetUtcNow());
    }

    /// <summary>Records the reply to the content of the current transaction: it ends <see cref="SmtpTransactionEndReason.Completed"/>.</summary>
    internal void MessageReplied(SmtpReply reply)
    {
        if (_session.Transaction is { } transaction)
        {
            transaction.MessageReply = reply;
            _transactionEndReason = SmtpTransactionEndReason.Completed;
        }
    }

    /// <summary>
    /// The end of a transaction after its span: the filter's end hook (the transaction's services still current),
    /// then the scope is disposed.
    /// </summary>
    private async ValueTask FinishTransactionAsync(ITransactionExtensions extensions, ITransactionEndHook hook)
    {
        var transaction = _session.Transaction!;
        await InvokeNotificationAsync(HookKind.MailboxFilter, (hook, transaction, reason: _transactionEndReason),
            static (s, _) => s.hook.OnTransactionEndedAsync(s.transaction, s.reason)).ConfigureAwait(false);
        _session.Transaction = null;
        _session.Services = _extensions?.Services;
        await DisposeScopeAsync(extensions).ConfigureAwait(false);
    }

    /// <summary>The transaction's end hook, if its filter has one (the filter was resolved at <c>MAIL</c>).</summary>
    private static ITransactionEndHook? EndHook(ITransactionExtensions extensions)
    {
        try
        {
            return extensions.GetMailboxFilter() as ITransactionEndHook;
        }
#pragma warning disable CA1031 // A filter that could not be created failed MAIL already (and was logged then).
        catch (Exception)
#pragma warning restore CA1031
        {
            return null;
        }
    }

    /// <summary>
    /// Runs the session handler's greeting hook on a valid EHLO/HELO, once the transaction the greeting ended has
    /// ended (<paramref name="transactionEnded"/>: its span was stopped by the caller, synchronously, so that the
    /// session's span is current again in the command loop); a refusal leaves the session not greeted.
    /// </summary>
    private async ValueTask<ConnectionAction> GreetAsync(IGreetingHook hook, SmtpReply reply, ValueTask transactionEnded)
    {
        await transactionEnded.ConfigureAwait(false);
        var refusal = await InvokeHookAsync(HookKind.SessionHandler, hook, static (h, c, ct) => h.OnGreetingAsync(c._session, ct),
            Replies.LocalError, Replies.LocalError.Code).ConfigureAwait(false);
        if (refusal is { IsPositive: false })
        {
            _greeted = false;
            _session.HeloName = null;
            _session.IsExtended = false;
            return Error(refusal);
        }

        return Reply(reply);
    }

    /// <summary>
    /// After a successful AUTH: the session handler's hook, if it has one. Returns the refusal to send instead of
    /// <c>235</c> (<c>454 4.7.0</c> when the hook failed), or <see langword="null"/>.
    /// </summary>
    internal async ValueTask<SmtpReply?> CheckAuthenticatedAsync()
    {
        if (_sessionHandler is not IAuthenticatedHook hook)
        {
            return null;
        }

        var refusal = await InvokeHookAsync(HookKind.SessionHandler, hook, static (h, c, ct) => h.OnAuthenticatedAsync(c._session, ct),
            Authentication.SaslReplies.TemporaryFailure, Authentication.SaslReplies.TemporaryFailure.Code).ConfigureAwait(false);
        return refusal is { IsPositive: false } ? refusal : null;
    }

    /// <summary>The transaction's message start hook, if its filter has one.</summary>
    private IMessageStartHook? MessageStartHook() => _transactionExtensions?.GetMailboxFilter() as IMessageStartHook;

    /// <summary>Asks the message start hook before 354 or the first chunk: the refusal, or <see langword="null"/>.</summary>
    private async ValueTask<SmtpReply?> CheckMessageStartAsync(IMessageStartHook hook)
    {
        var refusal = await InvokeHookAsync(HookKind.MailboxFilter, hook, static (h, c, ct) => h.OnMessageStartingAsync(c._session.Transaction!, ct),
            Replies.LocalError, Replies.LocalError.Code).ConfigureAwait(false);
        return refusal is { IsPositive: false } ? refusal : null;
    }

    /// <summary>DATA accepted by the protocol: the start hook may refuse it (no 354, the transaction stays open).</summary>
    private async ValueTask<ConnectionAction> ReceiveMessageAfterHookAsync(IMessageStartHook hook)
    {
        if (await CheckMessageStartAsync(hook).ConfigureAwait(false) is { } refusal)
        {
            return Error(refusal);
        }

        return await ReceiveMessageAsync(startChecked: true).ConfigureAwait(false);
    }

    /// <summary>
    /// The reply to a message received to its end: the filter's verdict hook may replace the store's, but never make a
    /// failure a success.
    /// </summary>
    internal ValueTask<SmtpReply> JudgeMessageAsync(SmtpReply storeReply)
    {
        return _transactionExtensions?.GetMailboxFilter() is IMessageVerdictHook hook && _session.Transaction is not null
            ? JudgeAsync(hook, storeReply)
            : new(storeReply);

        async ValueTask<SmtpReply> JudgeAsync(IMessageVerdictHook hook, SmtpReply storeReply)
        {
            var verdict = await InvokeHookAsync(HookKind.MailboxFilter, (hook, storeReply),
                static (s, c, ct) => s.hook.OnMessageReceivedAsync(c._session.Transaction!, s.storeReply, ct),
                Replies.LocalError, Replies.LocalError.Code).ConfigureAwait(false) ?? storeReply;
            return verdict.IsPositive && !storeReply.IsPositive ? storeReply : verdict;
        }
    }
}
