using System.Net.Sockets;

namespace StartTls.Smtp.EmbeddingSample;

// README: a connection that arrives some other way (here a socket accepted by a listener of the application's own)
// served with the server's limits and policy.
internal static class ServeExample
{
    public static async Task ServeAsync(SmtpServer server, Socket socket, CancellationToken cancellationToken)
    {
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        var pipe = new StreamDuplexPipe(stream);
        var remote = socket.RemoteEndPoint;
        var local = socket.LocalEndPoint;
        try
        {
            // <readme:serve>
            await server.ServeAsync(new SmtpConnectionContext(pipe)
            {
                RemoteEndPoint = remote,                 // what per-address limits, logs and trace headers use
                LocalEndPoint = local,
                Endpoint = new SmtpEndpointOptions { Name = "submission", RequireTls = true }, // the endpoint's policy
                Abort = () => socket.Dispose(),          // called if a graceful stop runs out of time
            }, cancellationToken);
            // </readme:serve>
        }
        finally
        {
            // The caller completes the pipes after the session.
            await pipe.Input.CompleteAsync();
            await pipe.Output.CompleteAsync();
        }
    }
}
