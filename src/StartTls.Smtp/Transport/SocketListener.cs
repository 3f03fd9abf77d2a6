using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using StartTls.Smtp.Diagnostics;

namespace StartTls.Smtp.Transport;

/// <summary>Accepts TCP connections on one endpoint and hands each socket to a callback.</summary>
internal sealed class SocketListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly Func<Socket, Task> _onAccepted;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private Task? _acceptLoop;

    public SocketListener(IPEndPoint endPoint, Func<Socket, Task> onAccepted, ILogger logger)
    {
        _onAccepted = onAccepted;
        _logger = logger;
        _socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.Address.Equals(IPAddress.IPv6Any))
            {
                _socket.DualMode = true;
            }

            _socket.Bind(endPoint);
            _socket.Listen(512);
            EndPoint = (IPEndPoint)_socket.LocalEndPoint!;
        }
        catch
        {
            _socket.Dispose();
            throw;
        }
    }

    /// <summary>The bound address, with the real port when port 0 was asked for.</summary>
    public IPEndPoint EndPoint { get; }

    public void Start() => _acceptLoop = AcceptLoopAsync();

    /// <summary>Stops accepting; connections already accepted are not touched.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                accepted = await _socket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                // A connection reset before we accepted it, or a transient resource shortage: keep serving.
                Log.AcceptFailed(_logger, ex);
                continue;
            }

            // Run the connection off the accept loop, so one slow start never delays the next accept.
            ThreadPool.UnsafeQueueUserWorkItem(static state => _ = state.Self._onAccepted(state.Socket), (Self: this, Socket: accepted), preferLocal: false);
        }
    }
}
