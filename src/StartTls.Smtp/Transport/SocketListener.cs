using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using StartTls.Smtp.Diagnostics;

namespace StartTls.Smtp.Transport;

/// <summary>
/// Accepts TCP connections on one endpoint and hands each socket to a callback. A failed accept is retried after a
/// growing delay (<see cref="AcceptBackoff"/>) and logged once per <see cref="FailureLogInterval"/> with a count.
/// </summary>
internal sealed class SocketListener : IAsyncDisposable
{
    /// <summary>How often, at most, a run of accept failures is logged.</summary>
    public static readonly TimeSpan FailureLogInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The accepted sockets that may wait at once for the thread pool to start serving them. The connection limits
    /// count a socket only from then on; without this bound a burst could be accepted faster than it is counted, and
    /// use up the descriptors the limits are sized to leave free.
    /// </summary>
    public const int MaxPendingDispatch = 16;

    private readonly Socket _socket;
    private readonly Func<Socket, Task> _onAccepted;
    private readonly TimeProvider _timeProvider;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _dispatchSlots = new(MaxPendingDispatch, MaxPendingDispatch);
    private readonly IntervalLogThrottle<SocketException> _failures;
    private readonly IntervalLogThrottle<Exception> _dispatchFailures;
    private Task? _acceptLoop;
    private volatile bool _disposed;

    public SocketListener(IPEndPoint endPoint, Func<Socket, Task> onAccepted, ILogger logger, TimeProvider? timeProvider = null)
    {
        _onAccepted = onAccepted;
        _timeProvider = timeProvider ?? TimeProvider.System;
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

        var bound = EndPoint;
        _failures = new IntervalLogThrottle<SocketException>(FailureLogInterval, _timeProvider,
            ex => Log.AcceptFailed(logger, bound, ex.SocketErrorCode, FailureLogInterval, ex),
            (count, interval, ex) => Log.AcceptFailures(logger, bound, count, interval, ex.SocketErrorCode));
        _dispatchFailures = new IntervalLogThrottle<Exception>(FailureLogInterval, _timeProvider,
            ex => Log.DispatchFailed(logger, bound, FailureLogInterval, ex),
            (count, interval, ex) => Log.DispatchFailures(logger, bound, count, interval, ex.GetType().Name));
    }

    /// <summary>The bound address, with the real port when port 0 was asked for.</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>The listening socket; tests shut it down to make every accept fail at once.</summary>
    internal Socket Socket => _socket;

    /// <summary>True from <see cref="Start"/> until the listener is disposed, while its accept loop runs.</summary>
    public bool IsListening => !_disposed && _acceptLoop is { IsCompleted: false };

    public void Start() => _acceptLoop = AcceptLoopAsync();

    /// <summary>Stops accepting; connections already accepted are not touched.</summary>
    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        await _stopping.CancelAsync().ConfigureAwait(false);
        _socket.Dispose();
        if (_acceptLoop is not null)
        {
            await _acceptLoop.ConfigureAwait(false);
        }

        _failures.Dispose();
        _dispatchFailures.Dispose();
        _stopping.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var backoff = new AcceptBackoff();
        while (!_stopping.IsCancellationRequested)
        {
            Socket accepted;
            try
            {
                await _dispatchSlots.WaitAsync(_stopping.Token).ConfigureAwait(false);
                accepted = await _socket.AcceptAsync(_stopping.Token).ConfigureAwait(false);
            }
            catch (Exception) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException ex)
            {
                _dispatchSlots.Release();

                // Keep serving. A connection reset before we took it is retried at once; anything else, above all
                // running out of descriptors, fails again at once until something is released: wait, thread given back.
                _failures.Record(ex);
                if (!AcceptBackoff.IsAboutOneConnection(ex.SocketErrorCode)
                    && !await DelayAsync(backoff.Next()).ConfigureAwait(false))
                {
                    return;
                }

                continue;
            }

            backoff.Reset();

            // Run the connection off the accept loop, so one slow start never delays the next accept.
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.Self.Dispatch(state.Socket), (Self: this, Socket: accepted), preferLocal: false);
        }
    }

    private void Dispatch(Socket socket)
    {
        try
        {
            // The callback counts the connection (or refuses it) before its first await; then the slot is free.
            _ = _onAccepted(socket);
        }
#pragma warning disable CA1031 // Thrown on a thread-pool thread, it would end the process.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // The connection could not even start, e.g. out of descriptors the runtime could not load an assembly the
            // first connection needs (FileNotFoundException). Close it; the next one may fare better.
            socket.Dispose();
            _dispatchFailures.Record(ex);
        }
        finally
        {
            // Never disposed: a connection may still be starting when the listener is disposed.
            _dispatchSlots.Release();
        }
    }

    /// <summary>Waits <paramref name="delay"/>; false when the listener is stopping.</summary>
    private async Task<bool> DelayAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, _timeProvider, _stopping.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
