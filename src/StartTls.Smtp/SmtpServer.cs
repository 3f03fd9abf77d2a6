using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StartTls.Smtp.Diagnostics;
using StartTls.Smtp.Protocol;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Transport;

namespace StartTls.Smtp;

/// <summary>
/// An SMTP server: listens on the configured endpoints and serves each connection with the protocol engine,
/// handing messages to an <see cref="IMessageStore"/>. Connections from other transports (Kestrel, a test pipe)
/// are served by <see cref="ServeAsync(SmtpConnectionContext, CancellationToken)"/> under the same limits and policy.
/// </summary>
/// <example>
/// <code>
/// var options = new SmtpServerOptions { ServerName = "mx.example.com" };
/// options.Endpoints.Add(new SmtpEndpointOptions { Address = "*:25" });
/// await using var server = new SmtpServer(options, new MaildirMessageStore(new MaildirStoreOptions { Path = "mail" }));
/// await server.StartAsync();
/// </code>
/// </example>
public sealed class SmtpServer : IAsyncDisposable
{
    /// <summary>How long aborted connections get to end on their own before their transports are cut off.</summary>
    private static readonly TimeSpan AbortGrace = TimeSpan.FromSeconds(1);

    /// <summary>How long <see cref="StopAsync"/> waits for cut-off connections before it gives up on them.</summary>
    private static readonly TimeSpan AbandonAfter = TimeSpan.FromSeconds(5);

    private readonly IReadOnlyList<SmtpEndpointOptions> _endpoints;
    private readonly TimeSpan _shutdownTimeout;
    private readonly ServerServices _services;
    private readonly ConcurrentDictionary<SmtpConnection, Action?> _connections = new();
    private readonly List<SocketListener> _listeners = [];
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SmtpEndpointOptions, EndpointSettings> _hostedEndpoints = []; // another transport's endpoints, snapshotted once each
    private readonly List<SmtpEndpointOptions> _listenerEndpoints = []; // the endpoint of each listener, in the same order
    private readonly Lock _stopLock = new();
    private readonly CancellationTokenSource _cutGrace = new(); // cancelled by any StopAsync caller's token
    private Task? _stopTask;
    private readonly string _idPrefix = Random.Shared.Next(0x1000, 0xFFFF).ToString("X4", CultureInfo.InvariantCulture);
    private long _nextId;
    private int _state; // 0 created, 1 started, 2 stopped
    private int _stressed;

    /// <summary>Creates a server. The options are validated now and copied; later changes to them have no effect.</summary>
    /// <param name="options">Limits, timeouts and endpoints.</param>
    /// <param name="messageStore">Where accepted messages go.</param>
    /// <param name="mailboxFilter">Accepts or refuses senders and recipients; default accepts all.</param>
    /// <param name="sessionHandler">Connect and close hooks; optional.</param>
    /// <param name="loggerFactory">Where logs go; default none.</param>
    /// <param name="timeProvider">The clock every timeout runs on; default <see cref="TimeProvider.System"/>.</param>
    /// <param name="meterFactory">Creates the server's meter (<see cref="SmtpTelemetry.MeterName"/>); default a meter of the server's own.</param>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    public SmtpServer(SmtpServerOptions options, IMessageStore messageStore, IMailboxFilter? mailboxFilter = null,
        ISessionHandler? sessionHandler = null, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null,
        IMeterFactory? meterFactory = null)
        : this(options, new FixedExtensions(messageStore ?? throw new ArgumentNullException(nameof(messageStore)),
            mailboxFilter ?? AcceptAllMailboxFilter.Instance, sessionHandler), loggerFactory, timeProvider, meterFactory)
    {
    }

    /// <summary>
    /// Creates a server whose sessions take their extension points from <paramref name="extensions"/> (the hosting
    /// layer's: a dependency-injection scope per session and per transaction).
    /// </summary>
    internal SmtpServer(SmtpServerOptions options, IExtensionScopes extensions, ILoggerFactory? loggerFactory,
        TimeProvider? timeProvider, IMeterFactory? meterFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        var validation = SmtpServerOptionsValidator.Instance.Validate(Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(SmtpServerOptions), validation.Failures);
        }

        // A snapshot: the endpoints are copied one by one, the rest by ProtocolSettings and TlsSettings.
        _endpoints = !options.ListenOnOwnSockets ? []
            : options.Endpoints.Count > 0
            ? [.. options.Endpoints.Select(static e => e.Clone())]
            : [new SmtpEndpointOptions()];
        _shutdownTimeout = options.ShutdownTimeout;
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("StartTls.Smtp.SmtpServer");
        var serverName = string.IsNullOrWhiteSpace(options.ServerName) ? Environment.MachineName : options.ServerName;
        var clock = timeProvider is null ? ServerClock.System : new ServerClock(timeProvider);
        var logger = Logger;
        var limiter = new ConnectionLimiter(options.MaxConnections, options.MaxConnectionsPerIp, options.StressThreshold, Logger, clock.Time);
        var metrics = new SmtpMetrics(meterFactory, serverName) { StressProbe = () => limiter.UnderStress ? 1 : 0 };
        var heartbeat = new DeadlineHeartbeat(clock, ex => Log.HeartbeatCallbackFailed(logger, ex), () => limiter.UnderStress);
        _services = new ServerServices(new ProtocolSettings(options, serverName), extensions, Logger, Tls.TlsSettings.Create(options.Tls, clock.Time),
            clock, heartbeat, metrics, limiter);
    }

    /// <summary>The addresses the server is listening on, with real port numbers; empty before <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<IPEndPoint> ListeningEndPoints => _listeners.ConvertAll(static l => l.EndPoint);

    /// <summary>
    /// Checks the policy of an endpoint that a transport of its own serves (Kestrel's <c>UseSmtp</c>, or a listener of
    /// the application's that calls <see cref="ServeAsync(SmtpConnectionContext, CancellationToken)"/>) against this
    /// server's options, as the server checks its own endpoints when it is created: AUTH offered where it is required,
    /// mechanisms that are configured, a positive size, valid PROXY sources, no LMTP on port 25.
    /// </summary>
    /// <param name="endpoint">The endpoint's policy, with the address it is served on.</param>
    /// <exception cref="OptionsValidationException">The server cannot honour the policy; every failure is listed.</exception>
    public void ValidateEndpoint(SmtpEndpointOptions endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        var failures = new List<string>();
        SmtpServerOptionsValidator.ValidateProtocol(failures, endpoint);
        SmtpServerOptionsValidator.ValidateEndpointPolicy(failures, endpoint, _services.Settings.Authentication ?? new Authentication.SmtpAuthenticationOptions());
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(SmtpServerOptions), failures);
        }
    }

    /// <summary>
    /// The state of each of the server's own endpoints now: before <see cref="StartAsync"/> the configured endpoints,
    /// none listening; once started one state per bound address; after <see cref="StopAsync"/> none listening. Empty
    /// when <see cref="SmtpServerOptions.ListenOnOwnSockets"/> is false.
    /// </summary>
    /// <returns>A snapshot, safe to call from any thread.</returns>
    public IReadOnlyList<SmtpEndpointState> GetEndpointStates()
    {
        lock (_listeners)
        {
            if (_listeners.Count == 0)
            {
                return _endpoints.Select(static e => new SmtpEndpointState(EndpointSettings.From(e).Name, e.Address, null, false)).ToList();
            }

            var states = new List<SmtpEndpointState>(_listeners.Count);
            for (var i = 0; i < _listeners.Count; i++)
            {
                var endpoint = _listenerEndpoints[i];
                states.Add(new SmtpEndpointState(EndpointSettings.From(endpoint).Name, endpoint.Address, _listeners[i].EndPoint, _listeners[i].IsListening));
            }

            return states;
        }
    }

    /// <summary>The number of connections being served now.</summary>
    public int ConnectionCount => _connections.Count;

    internal ILogger Logger { get; }

    /// <summary>The connection limits of every transport (and the stress state).</summary>
    internal ConnectionLimiter Limiter => _services.Limiter;

    /// <summary>Binds every endpoint and starts accepting connections. With no endpoint configured, listens on 127.0.0.1:2525.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes once every endpoint is bound.</returns>
    /// <exception cref="System.Net.Sockets.SocketException">An endpoint could not be bound; none is left open.</exception>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
        {
            throw new InvalidOperationException("The server was already started.");
        }

        try
        {
            foreach (var endpoint in _endpoints)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!EndpointParser.TryParse(endpoint.Address, out var addresses, out var error))
                {
                    throw new InvalidOperationException(error);
                }

                var settings = EndpointSettings.From(endpoint);
                foreach (var address in addresses)
                {
                    var listener = new SocketListener(address, socket => SocketConnectionHandler.HandleAsync(socket, this, settings), Logger, _services.Clock.Time);
                    lock (_listeners)
                    {
                        _listeners.Add(listener);
                        _listenerEndpoints.Add(endpoint);
                    }

                    Log.Listening(Logger, listener.EndPoint);
                }
            }
        }
        catch
        {
            foreach (var listener in _listeners)
            {
                listener.DisposeAsync().AsTask().GetAwaiter().GetResult();
            }

            lock (_listeners)
            {
                _listeners.Clear();
                _listenerEndpoints.Clear();
            }

            // Nothing is listening: the server may be started again (for example once the port is free).
            Volatile.Write(ref _state, 0);
            throw;
        }

        FileDescriptorBudget.Apply(_services.Limiter, Logger); // may lower MaxConnections to what the descriptor limit allows
        foreach (var listener in _listeners)
        {
            listener.Start();
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops gracefully: no new connections; idle sessions get <c>421 4.3.2</c>; messages being received may finish
    /// until <see cref="SmtpServerOptions.ShutdownTimeout"/> or <paramref name="cancellationToken"/>, then the rest
    /// are aborted (their stores are cancelled, nothing half-received is kept). Never throws because of a client.
    /// </summary>
    /// <remarks>
    /// Calls after the first (for example from <c>IHostApplicationLifetime.ApplicationStopping</c> and then from the
    /// host's stop) wait for the same stop; any caller's <paramref name="cancellationToken"/> cuts its grace period short.
    /// </remarks>
    /// <param name="cancellationToken">Cuts the grace period short.</param>
    /// <returns>A task that completes when every connection has ended, or has been cut off and given up on.</returns>
    public Task StopAsync(CancellationToken cancellationToken = default)
    {
        Task stop;
        lock (_stopLock)
        {
            if (_stopTask is null)
            {
                var previous = Interlocked.Exchange(ref _state, 2);

                // Never started and serving nothing: there is nothing to stop.
                _stopTask = previous == 0 && _connections.IsEmpty ? Task.CompletedTask : StopCoreAsync();
            }

            stop = _stopTask;
        }

        return stop.IsCompleted || !cancellationToken.CanBeCanceled ? stop : WaitForStopAsync(stop, cancellationToken);
    }

    /// <summary>Waits for the stop; <paramref name="cancellationToken"/> cuts its grace period short.</summary>
    private async Task WaitForStopAsync(Task stop, CancellationToken cancellationToken)
    {
        using (cancellationToken.Register(static cut => ((CancellationTokenSource)cut!).Cancel(), _cutGrace))
        {
            await stop.ConfigureAwait(false);
        }
    }

    private async Task StopCoreAsync()
    {
        var cancellationToken = _cutGrace.Token;
        foreach (var listener in _listeners)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }

        Log.Stopping(Logger, _connections.Count);
        foreach (var connection in _connections.Keys)
        {
            connection.RequestShutdown();
        }

        if (await WaitForConnectionsAsync(_shutdownTimeout, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        // Out of time: every session is told to stop now (a store is cancelled, nothing half-received is kept).
        Log.AbortingConnections(Logger, _connections.Count);
        foreach (var connection in _connections.Keys)
        {
            connection.Abort();
        }

        if (await WaitForConnectionsAsync(AbortGrace, CancellationToken.None).ConfigureAwait(false))
        {
            return;
        }

        // Still there (blocked in a transport or a hook that ignores cancellation): cut their transports off.
        foreach (var abortTransport in _connections.Values)
        {
            abortTransport?.Invoke();
        }

        if (!await WaitForConnectionsAsync(AbandonAfter, CancellationToken.None).ConfigureAwait(false))
        {
            Log.ConnectionsAbandoned(Logger, _connections.Count);
        }
    }

    /// <summary>
    /// Serves one connection that arrived over another transport (for example a test pipe, or Kestrel), with this
    /// server's options, limits, metrics and extension points. Completes when the session ends; the caller closes
    /// the transport. Cancelling <paramref name="cancellationToken"/> ends the session at once: an idle one gets
    /// <c>421 4.3.2</c>, a message being received is aborted and never acknowledged.
    /// </summary>
    /// <param name="connection">The connection's pipes, addresses, endpoint and abort callback.</param>
    /// <param name="cancellationToken">Ends the session.</param>
    /// <returns>A task that completes when the session has ended; it does not fail because of anything the client does.</returns>
    public Task ServeAsync(SmtpConnectionContext connection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var endpoint = connection.Endpoint is null ? EndpointSettings.Plain : _hostedEndpoints.GetValue(connection.Endpoint, EndpointSettings.From);
        return ServeAsync(connection.Transport, connection.RemoteEndPoint, connection.LocalEndPoint, endpoint, connection.Abort, cancellationToken);
    }

    /// <summary>
    /// Serves one connection on a plaintext endpoint; the short form of
    /// <see cref="ServeAsync(SmtpConnectionContext, CancellationToken)"/>.
    /// </summary>
    /// <param name="transport">The connection's input and output.</param>
    /// <param name="remoteEndPoint">The client's address, if known.</param>
    /// <param name="localEndPoint">The local address, if known.</param>
    /// <param name="cancellationToken">Ends the session.</param>
    /// <returns>A task that completes when the session has ended.</returns>
    public Task ServeAsync(IDuplexPipe transport, EndPoint? remoteEndPoint, EndPoint? localEndPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        return ServeAsync(transport, remoteEndPoint, localEndPoint, EndpointSettings.Plain, abort: null, cancellationToken);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _services.Heartbeat.Dispose();
        _services.Metrics.Dispose();
    }

    /// <summary>
    /// What every transport's connection goes through: the limits (a refusal gets its 421, or on an implicit-TLS
    /// endpoint just the close), the metrics and stress accounting, then the session, aborted if the token is cancelled.
    /// </summary>
    /// <returns>True when the connection was served, false when a limit refused it.</returns>
    internal async Task<bool> ServeAsync(IDuplexPipe transport, EndPoint? remoteEndPoint, EndPoint? localEndPoint, EndpointSettings endpoint, Action? abort, CancellationToken cancellationToken)
    {
        var address = (remoteEndPoint as IPEndPoint)?.Address;

        // A trusted PROXY protocol source is a proxy, not a client: it counts towards the total, and the client's
        // per-address slot is taken once its header has named the client.
        var proxied = _services.Settings.ProxySources.Contains(address) || endpoint.ProxySources.Contains(address);
        var counted = proxied ? null : address;
        var limit = _services.Limiter.TryAcquire(counted);
        if (limit != LimitResult.Accepted)
        {
            await RefuseAsync(transport, address, limit, endpoint, abort).ConfigureAwait(false);
            return false;
        }

        var metrics = _services.Metrics;
        metrics.ConnectionsAccepted.Add(1, endpoint.MetricTag);
        metrics.ActiveConnections.Add(1, endpoint.MetricTag);
        NoteStress();
        var id = _idPrefix + Interlocked.Increment(ref _nextId).ToString("X6", CultureInfo.InvariantCulture);
        var session = new SmtpSession(id, remoteEndPoint, localEndPoint, _services.Clock.Time.GetUtcNow()) { IsLmtp = endpoint.IsLmtp, Endpoint = endpoint.Info };
        var connection = new SmtpConnection(_services, transport, endpoint, session, expectProxyHeader: proxied);
        _connections[connection] = abort;
        try
        {
            if (Volatile.Read(ref _state) == 2)
            {
                connection.RequestShutdown();
            }

            using (cancellationToken.Register(static c => ((SmtpConnection)c!).Abort(), connection))
            {
                await connection.RunAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            connection.Dispose();
            _services.Limiter.Release(counted);
            if (connection.ProxiedAddress is { } client)
            {
                _services.Limiter.ReleaseAddress(client);
            }

            metrics.ActiveConnections.Add(-1, endpoint.MetricTag);
            NoteStress();
        }

        return true;
    }

    private async Task RefuseAsync(IDuplexPipe transport, IPAddress? address, LimitResult limit, EndpointSettings endpoint, Action? abort)
    {
        var reply = limit == LimitResult.TooManyConnections ? Replies.TooManyConnections : Replies.TooManyConnectionsFromIp;
        _services.Metrics.ConnectionsRefused.Add(1, endpoint.MetricTag,
            new KeyValuePair<string, object?>("reason", limit == LimitResult.TooManyConnections ? "max_connections" : "max_connections_per_ip"));
        _services.Limiter.LogRefusal(address, limit, reply.Message);

        // On an implicit-TLS endpoint the client expects a handshake: no plaintext byte, just the close (RFC 8314).
        if (endpoint.ImplicitTls)
        {
            return;
        }

        if (!_services.Limiter.TryStartRefusal())
        {
            // Enough refusals are already waiting for their clients: cut this one off, without the 421.
            abort?.Invoke();
            return;
        }

        try
        {
            using var timeout = new CancellationTokenSource(AbortGrace, _services.Clock.Time);
            transport.Output.Write(reply.WireBytes);
            await transport.Output.FlushAsync(timeout.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The client may already be gone; the refusal is best effort.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
        finally
        {
            _services.Limiter.EndRefusal();
        }
    }

    /// <summary>Logs the moments the server enters and leaves stress mode.</summary>
    private void NoteStress()
    {
        var now = _services.Limiter.UnderStress ? 1 : 0;
        if (Interlocked.Exchange(ref _stressed, now) != now)
        {
            if (now == 1)
            {
                Log.StressStarted(Logger, _connections.Count);
            }
            else
            {
                Log.StressEnded(Logger, _connections.Count);
            }
        }
    }

    /// <summary>True when every connection ended within <paramref name="timeout"/> (on the server's clock).</summary>
    private async Task<bool> WaitForConnectionsAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (_connections.IsEmpty)
        {
            return true;
        }

        var all = Task.WhenAll(_connections.Keys.Select(static c => c.Completion));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var delay = Task.Delay(timeout, _services.Clock.Time, stop.Token);
        var first = await Task.WhenAny(all, delay).ConfigureAwait(false);
        await stop.CancelAsync().ConfigureAwait(false);
        return first == all;
    }
}
