using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;

namespace StartTls.Smtp.LoadTest;

/// <summary>What one worker (one connection slot) counted.</summary>
internal sealed class WorkerStats
{
    private readonly List<long> _latencies;

    /// <summary>Initializes a new instance of the <see cref="WorkerStats"/> class.</summary>
    /// <param name="capacity">The expected number of samples.</param>
    public WorkerStats(int capacity) => _latencies = new List<long>(capacity);

    /// <summary>Gets the latencies of accepted messages, in <see cref="Stopwatch"/> ticks.</summary>
    public IReadOnlyList<long> Latencies => _latencies;

    /// <summary>Gets the number of accepted messages (or established idle connections).</summary>
    public long Ok { get; private set; }

    /// <summary>Gets the number of failures.</summary>
    public long Failed { get; private set; }

    /// <summary>Gets the failures by reply code (or error kind).</summary>
    public Dictionary<string, long> Failures { get; } = new(StringComparer.Ordinal);

    /// <summary>Gets or sets the TLS protocol negotiated, once seen.</summary>
    public string? TlsProtocol { get; set; }

    /// <summary>Gets or sets the TLS cipher suite negotiated, once seen.</summary>
    public string? TlsCipher { get; set; }

    /// <summary>Records a success and its latency.</summary>
    /// <param name="ticks">The latency in Stopwatch ticks.</param>
    public void Success(long ticks)
    {
        Ok++;
        _latencies.Add(ticks);
    }

    /// <summary>Records a failure.</summary>
    /// <param name="key">The reply code or error kind.</param>
    /// <param name="count">How many.</param>
    public void Fail(string key, long count = 1)
    {
        Failed += count;
        Failures[key] = Failures.GetValueOrDefault(key) + count;
    }
}

/// <summary>Drives the connections of one run in the chosen mode.</summary>
internal sealed class LoadRunner
{
    private const int MaxReconnectsPerWorker = 3;
    private const int MaxParallelConnects = 64;
    private static readonly TimeSpan BlockingTimeout = TimeSpan.FromSeconds(60);

    private static readonly byte[] Ehlo = "EHLO loadtest.example\r\n"u8.ToArray();
    private static readonly byte[] StartTls = "STARTTLS\r\n"u8.ToArray();
    private static readonly byte[] Mail = "MAIL FROM:<load@loadtest.example>\r\n"u8.ToArray();
    private static readonly byte[] Rcpt = "RCPT TO:<sink@example.net>\r\n"u8.ToArray();
    private static readonly byte[] Data = "DATA\r\n"u8.ToArray();
    private static readonly byte[] Rset = "RSET\r\n"u8.ToArray();
    private static readonly byte[] Quit = "QUIT\r\n"u8.ToArray();
    private static readonly byte[] Pipelined = [.. Mail, .. Rcpt, .. Data];

    private readonly LoadOptions _options;
    private readonly IPEndPoint _endPoint;
    private readonly byte[] _content;

    /// <summary>Initializes a new instance of the <see cref="LoadRunner"/> class.</summary>
    /// <param name="options">The options.</param>
    public LoadRunner(LoadOptions options)
    {
        _options = options;
        _endPoint = new IPEndPoint(options.Host, options.Port);
        _content = BuildContent(options.Size);
    }

    /// <summary>
    /// Builds a message of exactly <paramref name="size"/> bytes (headers, blank line, 76-character body lines, final
    /// CRLF; no line starts with a dot) followed by the terminator <c>.CRLF</c>.
    /// </summary>
    /// <param name="size">The size without the terminator.</param>
    /// <returns>The bytes to send after the 354.</returns>
    public static byte[] BuildContent(int size)
    {
        var text = new StringBuilder(size + 8);
        text.Append("From: <load@loadtest.example>\r\n")
            .Append("To: <sink@example.net>\r\n")
            .Append("Subject: load test\r\n")
            .Append("Message-ID: <load@loadtest.example>\r\n")
            .Append("\r\n");
        var line = 0;
        while (text.Length < size)
        {
            var room = size - text.Length - 2;
            var length = Math.Clamp(room, 1, 76);
            if (room - length is > 0 and < 3)
            {
                length = Math.Max(1, length - 3); // never leave a tail too short for a line of its own
            }

            var fill = (char)('a' + (line++ % 26));
            text.Append(fill, length).Append("\r\n");
        }

        if (text.Length != size)
        {
            throw new InvalidOperationException($"message builder produced {text.Length} bytes, not {size}");
        }

        text.Append(".\r\n");
        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>Runs the mode with <paramref name="messagesPerConnection"/> messages per connection.</summary>
    /// <param name="messagesPerConnection">Messages per connection (tls-per-message: per worker).</param>
    /// <param name="cancellationToken">The run's duration limit.</param>
    /// <returns>The workers' stats.</returns>
    public async Task<WorkerStats[]> RunMessagesAsync(int messagesPerConnection, CancellationToken cancellationToken)
    {
        var stats = new WorkerStats[_options.Connections];
        if (!_options.AsyncIo)
        {
            // One thread per connection with blocking calls: the cheapest client on few connections.
            var threads = new Thread[_options.Connections];
            for (var i = 0; i < threads.Length; i++)
            {
                var worker = stats[i] = new WorkerStats(messagesPerConnection);
                threads[i] = new Thread(
                    () =>
                    {
                        if (_options.Mode == LoadMode.TlsPerMessage)
                        {
                            ConnectionPerMessageWorker(worker, messagesPerConnection, cancellationToken);
                        }
                        else
                        {
                            SessionWorker(worker, messagesPerConnection, cancellationToken);
                        }
                    },
                    maxStackSize: 256 * 1024)
                {
                    IsBackground = true,
                    Name = $"load {i}",
                };
                threads[i].Start();
            }

            await Task.Run(() => Array.ForEach(threads, static t => t.Join()), CancellationToken.None);
            return stats;
        }

        var workers = new Task[_options.Connections];
        for (var i = 0; i < workers.Length; i++)
        {
            var worker = stats[i] = new WorkerStats(messagesPerConnection);
            workers[i] = _options.Mode == LoadMode.TlsPerMessage
                ? Task.Run(() => ConnectionPerMessageWorkerAsync(worker, messagesPerConnection, cancellationToken), CancellationToken.None)
                : Task.Run(() => SessionWorkerAsync(worker, messagesPerConnection, cancellationToken), CancellationToken.None);
        }

        await Task.WhenAll(workers);
        return stats;
    }

    /// <summary>Opens <paramref name="count"/> sessions (EHLO, and STARTTLS + EHLO in idle-tls) and keeps them open.</summary>
    /// <param name="count">How many.</param>
    /// <param name="stats">Where successes (with their set-up time) and failures are counted.</param>
    /// <param name="cancellationToken">The run's duration limit.</param>
    /// <returns>The open sessions.</returns>
    public async Task<List<ClientConnection>> OpenIdleAsync(int count, WorkerStats stats, CancellationToken cancellationToken)
    {
        var open = new List<ClientConnection>(count);
        using var gate = new SemaphoreSlim(MaxParallelConnects);
        var tasks = new List<Task>(count);
        var sync = new Lock();
        for (var i = 0; i < count; i++)
        {
            try
            {
                await gate.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                lock (sync)
                {
                    stats.Fail("not opened (duration limit)", count - i);
                }

                break;
            }

            tasks.Add(Task.Run(async () =>
            {
                try
                {
                    var started = Stopwatch.GetTimestamp();
                    ClientConnection? connection = null;
                    string? failure = null;
                    try
                    {
                        connection = await OpenSessionAsync(_options.Mode == LoadMode.IdleTls, stats, sync, cancellationToken);
                    }
                    catch (Exception ex) when (IsSessionError(ex, cancellationToken))
                    {
                        failure = Describe(ex);
                    }
                    catch (OperationCanceledException)
                    {
                        failure = "not opened (duration limit)";
                    }

                    lock (sync)
                    {
                        if (connection is not null)
                        {
                            open.Add(connection);
                            stats.Success(Stopwatch.GetTimestamp() - started);
                        }
                        else
                        {
                            stats.Fail(failure ?? "cancelled");
                        }
                    }
                }
                finally
                {
                    gate.Release();
                }
            }, CancellationToken.None));
        }

        await Task.WhenAll(tasks);
        return open;
    }

    /// <summary>Sends QUIT on each session (not waiting long for the reply) and closes them all.</summary>
    /// <param name="connections">The sessions.</param>
    /// <returns>A task that completes when all are closed.</returns>
    public static async Task CloseAllAsync(IReadOnlyList<ClientConnection> connections)
    {
        using var gate = new SemaphoreSlim(MaxParallelConnects * 4);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await Task.WhenAll(connections.Select(async connection =>
        {
            await gate.WaitAsync(CancellationToken.None);
            try
            {
                await connection.CommandAsync(Quit, timeout.Token);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or InvalidDataException)
            {
                // closing anyway
            }
            finally
            {
                await connection.DisposeAsync();
                gate.Release();
            }
        }));
    }

    private void SessionWorker(WorkerStats stats, int messages, CancellationToken cancellationToken)
    {
        var remaining = messages;
        var reconnects = 0;
        var inFlight = false;
        var sync = new Lock();
        while (remaining > 0 && !cancellationToken.IsCancellationRequested)
        {
            ClientConnection? connection = null;
            try
            {
                connection = OpenSession(_options.Mode == LoadMode.StartTls, stats, sync, cancellationToken);
                while (remaining > 0)
                {
                    inFlight = true;
                    var started = Stopwatch.GetTimestamp();
                    if (SendMessage(connection, stats))
                    {
                        stats.Success(Stopwatch.GetTimestamp() - started);
                    }

                    inFlight = false;
                    remaining--;
                }

                connection.Command(Quit);
            }
            catch (Exception ex) when (IsBlockingSessionError(ex))
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    break; // aborted by the duration limit: the message in flight is counted as not sent
                }

                stats.Fail(Describe(ex));
                if (inFlight)
                {
                    inFlight = false;
                    remaining--;
                }

                if (++reconnects > MaxReconnectsPerWorker)
                {
                    break;
                }
            }
            finally
            {
                connection?.Close();
            }
        }

        if (remaining > 0)
        {
            stats.Fail(cancellationToken.IsCancellationRequested ? "not sent (duration limit)" : "not sent (too many connection failures)", remaining);
        }
    }

    private void ConnectionPerMessageWorker(WorkerStats stats, int messages, CancellationToken cancellationToken)
    {
        var sync = new Lock();
        var remaining = messages;
        while (remaining > 0 && !cancellationToken.IsCancellationRequested)
        {
            var started = Stopwatch.GetTimestamp();
            ClientConnection? connection = null;
            try
            {
                connection = OpenSession(tls: true, stats, sync, cancellationToken);
                var accepted = SendMessage(connection, stats);
                var quit = connection.Command(Quit);
                if (accepted)
                {
                    if (quit == 221)
                    {
                        stats.Success(Stopwatch.GetTimestamp() - started);
                    }
                    else
                    {
                        stats.Fail($"{quit} (QUIT)");
                    }
                }

                remaining--;
            }
            catch (Exception ex) when (IsBlockingSessionError(ex))
            {
                if (cancellationToken.IsCancellationRequested)
                {
                    break;
                }

                stats.Fail(Describe(ex));
                remaining--;
            }
            finally
            {
                connection?.Close();
            }
        }

        if (remaining > 0)
        {
            stats.Fail("not sent (duration limit)", remaining);
        }
    }

    /// <summary>Blocking: connects, reads the greeting, EHLO and, when <paramref name="tls"/>, STARTTLS, the handshake and EHLO again.</summary>
    private ClientConnection OpenSession(bool tls, WorkerStats stats, Lock sync, CancellationToken cancellationToken)
    {
        var connection = ClientConnection.Connect(_endPoint, BlockingTimeout, cancellationToken);
        try
        {
            Expect(connection.ReadReply(), 220, "greeting");
            Expect(connection.Command(Ehlo), 250, "EHLO");
            if (tls)
            {
                Expect(connection.Command(StartTls), 220, "STARTTLS");
                connection.Upgrade(ClientTlsOptions());
                Expect(connection.Command(Ehlo), 250, "EHLO after TLS");
                if (stats.TlsProtocol is null)
                {
                    lock (sync)
                    {
                        stats.TlsProtocol = connection.Tls!.SslProtocol.ToString();
                        stats.TlsCipher = connection.Tls.NegotiatedCipherSuite.ToString();
                    }
                }
            }

            return connection;
        }
        catch
        {
            connection.Close();
            throw;
        }
    }

    /// <summary>Blocking: one transaction. Returns true when the server accepted the message.</summary>
    private bool SendMessage(ClientConnection connection, WorkerStats stats)
    {
        if (_options.Mode == LoadMode.Pipeline)
        {
            connection.Send(Pipelined);
            var mail = connection.ReadReply();
            var rcpt = connection.ReadReply();
            var data = connection.ReadReply();
            if (data != 354)
            {
                stats.Fail(mail != 250 ? $"{mail} (MAIL)" : rcpt != 250 ? $"{rcpt} (RCPT)" : $"{data} (DATA)");
                connection.Command(Rset);
                return false;
            }
        }
        else
        {
            var mail = connection.Command(Mail);
            if (mail != 250)
            {
                return Refuse(connection, stats, $"{mail} (MAIL)");
            }

            var rcpt = connection.Command(Rcpt);
            if (rcpt != 250)
            {
                return Refuse(connection, stats, $"{rcpt} (RCPT)");
            }

            var data = connection.Command(Data);
            if (data != 354)
            {
                return Refuse(connection, stats, $"{data} (DATA)");
            }
        }

        var end = connection.Command(_content);
        if (end != 250)
        {
            stats.Fail($"{end} (end of data)");
            return false;
        }

        return true;
    }

    private static bool Refuse(ClientConnection connection, WorkerStats stats, string key)
    {
        stats.Fail(key);
        connection.Command(Rset);
        return false;
    }

    private static bool IsBlockingSessionError(Exception ex) =>
        ex is IOException or SocketException or InvalidDataException or UnexpectedReplyException or AuthenticationException or ObjectDisposedException;

    private async Task SessionWorkerAsync(WorkerStats stats, int messages, CancellationToken cancellationToken)
    {
        var remaining = messages;
        var reconnects = 0;
        var inFlight = false;
        var sync = new Lock();
        while (remaining > 0 && !cancellationToken.IsCancellationRequested)
        {
            ClientConnection? connection = null;
            try
            {
                connection = await OpenSessionAsync(_options.Mode == LoadMode.StartTls, stats, sync, cancellationToken);
                while (remaining > 0)
                {
                    inFlight = true;
                    var started = Stopwatch.GetTimestamp();
                    if (await SendMessageAsync(connection, stats, cancellationToken))
                    {
                        stats.Success(Stopwatch.GetTimestamp() - started);
                    }

                    inFlight = false;
                    remaining--;
                }

                await connection.CommandAsync(Quit, cancellationToken);
            }
            catch (Exception ex) when (IsSessionError(ex, cancellationToken))
            {
                stats.Fail(Describe(ex));
                if (inFlight)
                {
                    inFlight = false;
                    remaining--; // the message in flight is the one that failed
                }

                if (++reconnects > MaxReconnectsPerWorker)
                {
                    break;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            finally
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }
            }
        }

        if (remaining > 0)
        {
            stats.Fail(cancellationToken.IsCancellationRequested ? "not sent (duration limit)" : "not sent (too many connection failures)", remaining);
        }
    }

    private async Task ConnectionPerMessageWorkerAsync(WorkerStats stats, int messages, CancellationToken cancellationToken)
    {
        var sync = new Lock();
        var remaining = messages;
        while (remaining > 0 && !cancellationToken.IsCancellationRequested)
        {
            remaining--;
            var started = Stopwatch.GetTimestamp();
            ClientConnection? connection = null;
            try
            {
                connection = await OpenSessionAsync(tls: true, stats, sync, cancellationToken);
                var accepted = await SendMessageAsync(connection, stats, cancellationToken);
                var quit = await connection.CommandAsync(Quit, cancellationToken);
                if (accepted)
                {
                    if (quit == 221)
                    {
                        stats.Success(Stopwatch.GetTimestamp() - started);
                    }
                    else
                    {
                        stats.Fail($"{quit} (QUIT)");
                    }
                }
            }
            catch (Exception ex) when (IsSessionError(ex, cancellationToken))
            {
                stats.Fail(Describe(ex));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                remaining++;
                break;
            }
            finally
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }
            }
        }

        if (remaining > 0)
        {
            stats.Fail("not sent (duration limit)", remaining);
        }
    }

    /// <summary>Connects, reads the greeting, sends EHLO and, when <paramref name="tls"/>, STARTTLS, the handshake and EHLO again.</summary>
    private async Task<ClientConnection> OpenSessionAsync(bool tls, WorkerStats stats, Lock sync, CancellationToken cancellationToken)
    {
        var connection = await ClientConnection.ConnectAsync(_endPoint, cancellationToken);
        try
        {
            Expect(await connection.ReadReplyAsync(cancellationToken), 220, "greeting");
            Expect(await connection.CommandAsync(Ehlo, cancellationToken), 250, "EHLO");
            if (tls)
            {
                Expect(await connection.CommandAsync(StartTls, cancellationToken), 220, "STARTTLS");
                await connection.UpgradeAsync(ClientTlsOptions(), cancellationToken);
                Expect(await connection.CommandAsync(Ehlo, cancellationToken), 250, "EHLO after TLS");
                if (stats.TlsProtocol is null)
                {
                    lock (sync)
                    {
                        stats.TlsProtocol = connection.Tls!.SslProtocol.ToString();
                        stats.TlsCipher = connection.Tls.NegotiatedCipherSuite.ToString();
                    }
                }
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>One transaction. Returns true when the server accepted the message (250 after the content).</summary>
    private async Task<bool> SendMessageAsync(ClientConnection connection, WorkerStats stats, CancellationToken cancellationToken)
    {
        if (_options.Mode == LoadMode.Pipeline)
        {
            await connection.SendAsync(Pipelined, cancellationToken);
            var mail = await connection.ReadReplyAsync(cancellationToken);
            var rcpt = await connection.ReadReplyAsync(cancellationToken);
            var data = await connection.ReadReplyAsync(cancellationToken);
            if (data != 354)
            {
                stats.Fail(mail != 250 ? $"{mail} (MAIL)" : rcpt != 250 ? $"{rcpt} (RCPT)" : $"{data} (DATA)");
                await connection.CommandAsync(Rset, cancellationToken);
                return false;
            }
        }
        else
        {
            var mail = await connection.CommandAsync(Mail, cancellationToken);
            if (mail != 250)
            {
                return await RefuseAsync(connection, stats, $"{mail} (MAIL)", cancellationToken);
            }

            var rcpt = await connection.CommandAsync(Rcpt, cancellationToken);
            if (rcpt != 250)
            {
                return await RefuseAsync(connection, stats, $"{rcpt} (RCPT)", cancellationToken);
            }

            var data = await connection.CommandAsync(Data, cancellationToken);
            if (data != 354)
            {
                return await RefuseAsync(connection, stats, $"{data} (DATA)", cancellationToken);
            }
        }

        var end = await connection.CommandAsync(_content, cancellationToken);
        if (end != 250)
        {
            stats.Fail($"{end} (end of data)");
            return false;
        }

        return true;
    }

    private static async Task<bool> RefuseAsync(ClientConnection connection, WorkerStats stats, string key, CancellationToken cancellationToken)
    {
        stats.Fail(key);
        await connection.CommandAsync(Rset, cancellationToken);
        return false;
    }

    private static void Expect(int code, int expected, string stage)
    {
        if (code != expected)
        {
            throw new UnexpectedReplyException(stage, code);
        }
    }

    private static SslClientAuthenticationOptions ClientTlsOptions() => new()
    {
        TargetHost = "localhost",
        EnabledSslProtocols = SslProtocols.None, // the system's choice: TLS 1.3 when both ends have it
        AllowTlsResume = false, // every handshake is a full one
#pragma warning disable CA5359 // The load tool only ever connects to loopback (enforced by option parsing) and measures; it trusts any certificate.
        RemoteCertificateValidationCallback = static (_, _, _, _) => true,
#pragma warning restore CA5359
    };

    private static bool IsSessionError(Exception ex, CancellationToken cancellationToken) =>
        ex is IOException or SocketException or InvalidDataException or UnexpectedReplyException or AuthenticationException
        || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);

    private static string Describe(Exception ex) => ex switch
    {
        UnexpectedReplyException reply => reply.FailureKey,
        ConnectionClosedException => "connection closed by server",
        SocketException socket => $"socket error {socket.SocketErrorCode}",
        IOException { InnerException: SocketException socket } => $"socket error {socket.SocketErrorCode}",
        AuthenticationException => "TLS handshake failed",
        InvalidDataException => "malformed reply",
        IOException => "I/O error",
        _ => ex.GetType().Name,
    };
}
