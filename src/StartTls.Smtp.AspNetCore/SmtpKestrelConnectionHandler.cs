using Microsoft.AspNetCore.Connections;

namespace StartTls.Smtp.AspNetCore;

/// <summary>Hands each Kestrel connection of one endpoint to the SMTP server, which applies its limits and policy.</summary>
internal sealed class SmtpKestrelConnectionHandler(SmtpServer server, KestrelSmtpEndpoint endpoint, SmtpEndpointOptions policy)
{
    private SmtpEndpointOptions? _options;

    public async Task OnConnectedAsync(ConnectionContext connection)
    {
        // Made at the first connection, when Kestrel has bound the endpoint and its name carries the real port.
        var options = _options ??= Copy(policy, endpoint.Address, endpoint.Name);
        var transport = connection.Transport;
        await server.ServeAsync(new SmtpConnectionContext(transport)
        {
            RemoteEndPoint = connection.RemoteEndPoint,
            LocalEndPoint = connection.LocalEndPoint,
            Endpoint = options,
            Abort = connection.Abort,
        }, CancellationToken.None).ConfigureAwait(false);

        // Kestrel closes the connection when this returns; completing the output first sends what is still buffered.
        await transport.Input.CompleteAsync().ConfigureAwait(false);
        await transport.Output.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>The endpoint's policy (a snapshot of what UseSmtp was configured with) at Kestrel's address and name.</summary>
    private static SmtpEndpointOptions Copy(SmtpEndpointOptions policy, string address, string? name)
    {
        var options = policy.Clone();
        options.Address = address;
        options.Name = name;
        return options;
    }
}
