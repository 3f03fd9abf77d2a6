using StartTls.Smtp.Diagnostics;

namespace StartTls.Smtp.Protocol;

/// <summary>Calling the application: one way to call a hook, catch its failure, log it and substitute the reply.</summary>
internal sealed partial class SmtpConnection
{
    /// <summary>
    /// Calls <paramref name="hook"/> with the session's abort token. A failure is logged once and becomes
    /// <paramref name="onFailure"/> (a reply the client can act on, typically a 4xx); an abort is not a failure and
    /// propagates, so the session ends.
    /// </summary>
    /// <param name="kind">Which hook, for the log.</param>
    /// <param name="state">What the hook needs besides the connection (a static lambda keeps the call allocation-free).</param>
    /// <param name="hook">The call.</param>
    /// <param name="onFailure">What to return when the hook fails.</param>
    /// <param name="failureCode">The code of the reply the caller sends on failure, for the log.</param>
    internal async ValueTask<TResult> InvokeHookAsync<TState, TResult>(HookKind kind, TState state, Func<TState, SmtpConnection, CancellationToken, ValueTask<TResult>> hook, TResult onFailure, int failureCode)
    {
        try
        {
            return await hook(state, this, _aborted).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The application's failure becomes a reply, never a crash.
        catch (Exception ex) when (!_aborted.IsCancellationRequested)
#pragma warning restore CA1031
        {
            Log.HookFailed(_services.Logger, kind.Describe(), failureCode, ex);
            return onFailure;
        }
    }

    /// <summary>Calls a hook that only takes note (nothing to substitute): its failure is logged, never rethrown.</summary>
    internal async ValueTask InvokeNotificationAsync<TState>(HookKind kind, TState state, Func<TState, SmtpConnection, ValueTask> hook)
    {
        try
        {
            await hook(state, this).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Bookkeeping only.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.NotificationFailed(_services.Logger, kind.Describe(), ex);
        }
    }
}
