using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using StartTls.Smtp.Diagnostics;
using StartTls.Smtp.Protocol;

namespace StartTls.Smtp.Transport;

/// <summary>
/// Serves one accepted socket: applies the connection limits, wraps the socket in pipes, runs the SMTP connection
/// and closes the socket so that the last reply reaches the client.
/// </summary>
internal static class SocketConnectionHandler
{
    private static readonly TimeSpan LingerTimeout = TimeSpan.FromSeconds(2);

    public static async Task HandleAsync(Socket socket, SmtpServer server, EndpointSettings endpoint)
    {
        var remote = socket.RemoteEndPoint as IPEndPoint;
        var limit = server.Limiter.TryAcquire(remote?.Address);
        if (limit != LimitResult.Accepted)
        {
            await RefuseAsync(socket, server, remote, limit, endpoint.ImplicitTls).ConfigureAwait(false);
            return;
        }

        try
        {
            socket.NoDelay = true;
            SmtpMetrics.ConnectionsAccepted.Add(1);
            SmtpMetrics.ActiveConnections.Add(1);
            var stream = new NetworkStream(socket, ownsSocket: false);
            await using (stream.ConfigureAwait(false))
            {
                var gate = new ZeroByteReadGate(stream);
                var transport = new DuplexPipe(gate, PipeReader.Create(gate, StreamPipeSettings.Reader), PipeWriter.Create(stream, StreamPipeSettings.Writer));
                await server.ServeAsync(transport, remote, socket.LocalEndPoint, endpoint, abort: () => socket.Dispose()).ConfigureAwait(false);
                await transport.Input.CompleteAsync().ConfigureAwait(false);
                await transport.Output.CompleteAsync().ConfigureAwait(false);
            }

            await CloseGracefullyAsync(socket).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever happened to one socket, the server goes on.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        finally
        {
            socket.Dispose();
            SmtpMetrics.ActiveConnections.Add(-1);
            server.Limiter.Release(remote?.Address);
        }
    }

    private static async Task RefuseAsync(Socket socket, SmtpServer server, IPEndPoint? remote, LimitResult limit, bool implicitTls)
    {
        SmtpMetrics.ConnectionsRefused.Add(1);
        var reply = limit == LimitResult.TooManyConnections ? Replies.TooManyConnections : Replies.TooManyConnectionsFromIp;
        server.Limiter.LogRefusal(remote?.Address, limit, reply.Message);
        if (!server.Limiter.TryStartRefusal())
        {
            // Enough refusals are already waiting for their clients; close this one at once, without the 421.
            socket.Dispose();
            return;
        }

        try
        {
            // On an implicit-TLS endpoint the client expects a handshake: no plaintext byte, just the close (RFC 8314).
            if (!implicitTls)
            {
                using var timeout = new CancellationTokenSource(LingerTimeout);
                await socket.SendAsync(reply.WireBytes, SocketFlags.None, timeout.Token).ConfigureAwait(false);
            }

            await CloseGracefullyAsync(socket).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The client may already be gone; nothing to do.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        finally
        {
            socket.Dispose();
            server.Limiter.EndRefusal();
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
