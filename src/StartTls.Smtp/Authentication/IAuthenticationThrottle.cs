namespace StartTls.Smtp.Authentication;

/// <summary>
/// Rate-limits authentication across connections (for example per remote address). Called before each AUTH and after
/// each outcome.
/// </summary>
public interface IAuthenticationThrottle
{
    /// <summary>Decides whether an AUTH may start. Return <see langword="null"/> to allow, or the reply to refuse with (for example <c>454 4.7.0</c>).</summary>
    /// <param name="session">The connection's facts.</param>
    /// <param name="cancellationToken">Cancelled when the connection ends.</param>
    /// <returns><see langword="null"/> or the refusal.</returns>
    ValueTask<SmtpReply?> OnAttemptAsync(SmtpSession session, CancellationToken cancellationToken);

    /// <summary>Records an outcome.</summary>
    /// <param name="session">The connection's facts.</param>
    /// <param name="succeeded">Whether the exchange authenticated the client.</param>
    /// <returns>A task.</returns>
    ValueTask OnCompletedAsync(SmtpSession session, bool succeeded);
}
