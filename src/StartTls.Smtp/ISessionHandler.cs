namespace StartTls.Smtp;

/// <summary>Hooks into the life of a connection: refuse it at connect, clean up when it closes.</summary>
/// <remarks>
/// A handler may also implement <see cref="IGreetingHook"/> (EHLO/HELO) and <see cref="IAuthenticatedHook"/> (AUTH);
/// the transaction's hooks are the <see cref="IMailboxFilter"/>'s.
/// </remarks>
public interface ISessionHandler
{
    /// <summary>
    /// Called when a connection is accepted, before the greeting. Return <see langword="null"/> to serve it, or a
    /// reply (typically <see cref="SmtpReply.AccessDenied"/>, 554) that is sent instead of the greeting before the
    /// connection is closed.
    /// </summary>
    /// <param name="session">The new connection's facts.</param>
    /// <param name="cancellationToken">Cancelled when the server stops.</param>
    /// <returns><see langword="null"/> to accept, or the refusal reply.</returns>
    ValueTask<SmtpReply?> OnConnectedAsync(SmtpSession session, CancellationToken cancellationToken);

    /// <summary>Called once when the connection has closed, however it ended. Exceptions are logged and ignored.</summary>
    /// <param name="session">The closed connection's facts.</param>
    /// <returns>A task that completes when the handler is done.</returns>
    ValueTask OnClosedAsync(SmtpSession session);
}
