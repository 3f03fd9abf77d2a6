using System.IO.Pipelines;
using System.Net.Sockets;
using StartTls.Smtp.IO;
using StartTls.Smtp.Protocol;

namespace StartTls.Smtp.Transport;

/// <summary>
/// Serves one accepted socket: wraps it in pipes, hands it to the server (which applies the limits) and closes the
/// socket so that the last reply reaches the client.
/// </summary>
internal static class SocketConnectionHandler
{
    private static readonly TimeSpan LingerTimeout = TimeSpan.FromSeconds(2);

    public static async Task HandleAsync(Socket socket, SmtpServer server, EndpointSettings endpoint)
    {
        var served = false;
        try
        {
            socket.NoDelay = true;
            var stream = new NetworkStream(socket, ownsSocket: false);
            await using (stream.ConfigureAwait(false))
            {
                var gate = new ZeroByteReadGate(stream);
                var transport = new DuplexPipe(gate, PipeReader.Create(gate, StreamPipeSettings.Reader), PipeWriter.Create(stream, StreamPipeSettings.Writer));

                // Limits, metrics and policy are the server's, as for every other transport.
                served = await server.ServeAsync(transport, socket.RemoteEndPoint, socket.LocalEndPoint, endpoint, abort: socket.Dispose, CancellationToken.None).ConfigureAwait(false);
                await transport.Input.CompleteAsync().ConfigureAwait(false);
                await transport.Output.CompleteAsync().ConfigureAwait(false);
            }

            if (served)
            {
                await CloseGracefullyAsync(socket).ConfigureAwait(false);
            }
            else
            {
                // Refused by a limit: the client has said nothing yet, so closing at once sends no RST over the 421,
                // and a flood of refusals holds no descriptor for a linger.
                socket.Shutdown(SocketShutdown.Send);
            }
        }
#pragma warning disable CA1031 // Whatever happened to one socket, the server goes on.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        finally
        {
            socket.Dispose();
        }
    }

    /// <summary>
    /// Sends FIN, then reads and drops what the client still sends for a short while. Closing a socket with unread
    /// input makes the kernel send RST, which can destroy our last reply before the client reads it.
    /// </summary>
    private static async Task CloseGracefullyAsync(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
            using var timeout = new CancellationTokenSource(LingerTimeout);
            var scratch = new byte[512];
            var total = 0;
            while (total < 64 * 1024)
            {
                var read = await socket.ReceiveAsync(scratch, SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                total += read;
            }
        }
#pragma warning disable CA1031 // Best effort: the socket is closed right after either way.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private sealed class DuplexPipe(ZeroByteReadGate gate, PipeReader input, PipeWriter output) : IDuplexPipe, IReadGateOwner
    {
        public ZeroByteReadGate ReadGate { get; } = gate;

        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
