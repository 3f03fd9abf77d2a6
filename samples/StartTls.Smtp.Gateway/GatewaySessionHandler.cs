namespace StartTls.Smtp.Gateway;

/// <summary>Closes a session's upstream connection (QUIT) when the client's session ends, however it ends.</summary>
internal sealed class GatewaySessionHandler : ISessionHandler
{
    /// <inheritdoc/>
    public ValueTask<SmtpReply?> OnConnectedAsync(SmtpSession session, CancellationToken cancellationToken)
        => ValueTask.FromResult<SmtpReply?>(null);

    /// <inheritdoc/>
    public ValueTask OnClosedAsync(SmtpSession session) => UpstreamRelay.CloseAsync(session);
}
