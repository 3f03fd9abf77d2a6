using System.Collections.Concurrent;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StartTls.Smtp.Diagnostics;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.Protocol;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Transport;

namespace StartTls.Smtp;

/// <summary>
/// An SMTP server: listens on the configured endpoints and serves each connection with the protocol engine,
/// handing messages to an <see cref="IMessageStore"/>.
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
    private readonly SmtpServerOptions _options;
    private readonly ServerServices _services;
    private readonly ConcurrentDictionary<SmtpConnection, ConnectionEntry> _connections = new();
    private readonly List<SocketListener> _listeners = [];
    private readonly CancellationTokenSource _abortAll = new();
    private readonly string _idPrefix = Random.Shared.Next(0x1000, 0xFFFF).ToString("X4", CultureInfo.InvariantCulture);
    private long _nextId;
    private int _state; // 0 created, 1 started, 2 stopped

    /// <summary>Creates a server. The options are validated now and copied; later changes to them have no effect.</summary>
    /// <param name="options">Limits, timeouts and endpoints.</param>
    /// <param name="messageStore">Where accepted messages go.</param>
    /// <param name="mailboxFilter">Accepts or refuses senders and recipients; default accepts all.</param>
    /// <param name="sessionHandler">Connect and close hooks; optional.</param>
    /// <param name="loggerFactory">Where logs go; default none.</param>
    /// <exception cref="OptionsValidationException">The options are invalid.</exception>
    public SmtpServer(SmtpServerOptions options, IMessageStore messageStore, IMailboxFilter? mailboxFilter = null,
        ISessionHandler? sessionHandler = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(messageStore);
        var validation = new SmtpServerOptionsValidator().Validate(Options.DefaultName, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(SmtpServerOptions), validation.Failures);
        }

        _options = options;
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("StartTls.Smtp.SmtpServer");
        var serverName = string.IsNullOrWhiteSpace(options.ServerName) ? Environment.MachineName : options.ServerName;
        _services = new ServerServices(new ProtocolSettings(options, serverName), messageStore,
            mailboxFilter ?? AcceptAllMailboxFilter.Instance, sessionHandler, Logger, Tls.TlsSettings.Create(options.Tls));
        Limiter = new ConnectionLimiter(options.MaxConnections, options.MaxConnectionsPerIp, Logger);
    }

    /// <summary>The addresses the server is listening on, with real port numbers; empty before <see cref="StartAsync"/>.</summary>
    public IReadOnlyList<IPEndPoint> ListeningEndPoints => _listeners.ConvertAll(static l => l.EndPoint);

    /// <summary>The number of connections being served now.</summary>
    public int ConnectionCount => _connections.Count;

    internal ConnectionLimiter Limiter { get; }

    internal ILogger Logger { get; }

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

        var endpoints = _options.Endpoints.Count > 0 ? _options.Endpoints : [new SmtpEndpointOptions()];
        try
        {
            foreach (var endpoint in endpoints)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!EndpointParser.TryParse(endpoint.Address, out var addresses, out var error))
                {
                    throw new InvalidOperationException(error);
                }

                foreach (var address in addresses)
                {
                    var settings = EndpointSettings.From(endpoint);
                    var listener = new SocketListener(address, socket => SocketConnectionHandler.HandleAsync(socket, this, settings), Logger);
                    _listeners.Add(listener);
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

            _listeners.Clear();

            // Nothing is listening: the server may be started again (for example once the port is free).
            Volatile.Write(ref _state, 0);
            throw;
        }

        FileDescriptorBudget.Apply(Limiter, Logger); // may lower MaxConnections to what the descriptor limit allows
        foreach (var listener in _listeners)
        {
            listener.Start();
        }

        return Task.CompletedTask;
    }

    /// <summary>
    /// Stops gracefully: no new connections; idle sessions get <c>421 4.3.2</c>; messages being received may finish
    /// until <see cref="SmtpServerOptions.ShutdownTimeout"/> or <paramref name="cancellationToken"/>, then the rest
    /// are aborted (their stores are cancelled, nothing half-received is kept).
    /// </summary>
    /// <param name="cancellationToken">Cuts the grace period short.</param>
    /// <returns>A task that completes when every connection has ended.</returns>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        var previous = Interlocked.Exchange(ref _state, 2);
        if (previous == 2 || (previous == 0 && _connections.IsEmpty))
        {
            // Already stopped, or never started and serving nothing.
            return;
        }

        foreach (var listener in _listeners)
        {
            await listener.DisposeAsync().ConfigureAwait(false);
        }

        Log.Stopping(Logger, _connections.Count);
        foreach (var connection in _connections.Keys)
        {
            connection.RequestShutdown();
        }

        var all = Task.WhenAll(_connections.Values.Select(static e => e.Completion));
        using var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        grace.CancelAfter(_options.ShutdownTimeout);
        try
        {
            await all.WaitAsync(grace.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Log.AbortingConnections(Logger, _connections.Count);
            await _abortAll.CancelAsync().ConfigureAwait(false);
            foreach (var entry in _connections.Values)
            {
                entry.Abort?.Invoke();
            }

            await all.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Serves one connection that arrived over another transport (for example a test pipe, or Kestrel), using this
    /// server's options and extension points. Completes when the session ends; the caller closes the transport.
    /// </summary>
    /// <param name="transport">The connection's input and output.</param>
    /// <param name="remoteEndPoint">The client's address, if known.</param>
    /// <param name="localEndPoint">The local address, if known.</param>
    /// <param name="cancellationToken">Aborts the session.</param>
    /// <returns>A task that completes when the session has ended.</returns>
    public async Task ServeAsync(IDuplexPipe transport, EndPoint? remoteEndPoint, EndPoint? localEndPoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        using var registration = cancellationToken.Register(static s => ((IDuplexPipe)s!).Input.CancelPendingRead(), transport);
        await ServeAsync(transport, remoteEndPoint, localEndPoint, EndpointSettings.Plain, abort: null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _abortAll.Dispose();
    }

    internal async Task ServeAsync(IDuplexPipe transport, EndPoint? remoteEndPoint, EndPoint? localEndPoint, EndpointSettings endpoint, Action? abort, CancellationToken cancellationToken = default)
    {
        var id = _idPrefix + Interlocked.Increment(ref _nextId).ToString("X6", CultureInfo.InvariantCulture);
        var session = new SmtpSession(id, remoteEndPoint, localEndPoint, DateTimeOffset.UtcNow);
        using var aborted = CancellationTokenSource.CreateLinkedTokenSource(_abortAll.Token, cancellationToken);
        using var connection = new SmtpConnection(_services, transport, endpoint, session, aborted.Token);
        var completion = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _connections[connection] = new ConnectionEntry(completion.Task, abort);
        try
        {
            if (Volatile.Read(ref _state) == 2)
            {
                connection.RequestShutdown();
            }

            await connection.RunAsync().ConfigureAwait(false);
        }
        finally
        {
            _connections.TryRemove(connection, out _);
            completion.TrySetResult();
        }
    }

    private sealed record ConnectionEntry(Task Completion, Action? Abort);
}
