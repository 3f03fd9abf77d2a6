using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.IO.Pipelines;
using StartTls.Smtp.Diagnostics;
using StartTls.Smtp.IO;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// One SMTP session over any <see cref="IDuplexPipe"/>: reads command lines, runs the state machine, streams message
/// content to the store and writes replies. It knows nothing of sockets, so it can run under any transport.
/// </summary>
/// <remarks>
/// Replies to one pipelined group are written into the output pipe and flushed once, just before the connection
/// waits for more input (RFC 2920 §3.2). All timeouts move one deadline, watched by the server's
/// <see cref="DeadlineHeartbeat"/>, which cancels the pending read (or flush) once it has passed. There is one abort
/// path (<see cref="Abort"/>): a flag plus a cancelled read, checked wherever a read returns cancelled.
/// The connection orchestrates: the DATA phase is its <see cref="MessageReceiver"/>'s and AUTH its
/// <see cref="SaslSession"/>'s, each created at first need and reused, each writing and reading through the
/// connection's narrow internal surface, so that the pipes, the deadlines and the abort path have one owner.
/// </remarks>
internal sealed partial class SmtpConnection : HeartbeatMember, IDisposable
{
    private static readonly SmtpReply StartMailInput = new(354, null, "Start mail input; end with <CRLF>.<CRLF>");
    private static readonly SmtpReply HandlerFailed = new(421, "4.3.0", "Temporary failure, try again later");
    private static readonly TimeSpan FarewellTimeout = TimeSpan.FromSeconds(1);

    private readonly ServerServices _services;
    private readonly ProtocolSettings _settings;
    private static readonly SmtpReply ReadyToStartTls = new(220, "2.0.0", "Ready to start TLS");

    private readonly IDuplexPipe _transport;
    private readonly EndpointSettings _endpoint;
    private readonly TlsSettings? _tlsSettings;
    private readonly SmtpSession _session;
    private readonly CancellationTokenSource _abortSource = new();
    private readonly CancellationToken _aborted;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private PipeReader _input;
    private PipeWriter _output;
    private TlsPipe? _tls;
    private CommandLineReader _lines;
    private PartialLine _partial;
    private SmtpEnvelope? _transaction;
    private bool _bdatFailed;
    private long _chunkSize;
    private bool _chunkLast;
    private SmtpReply? _chunkRefusal;
    private bool _greeted;
    private int _errors;
    private bool _pendingFlush;
    private bool _discardingAuthLine;
    private long _deadline = long.MaxValue;
    private long _stressDeadline = long.MaxValue;
    private TimeoutPhase _phase = TimeoutPhase.Greeting;
    private bool _farewellWritten;
    private bool _silent;
    private volatile bool _shutdownRequested;
    private volatile bool _abortRequested;
    private volatile bool _waitingForCommand;
    private volatile bool _flushing;
    private MessageReceiver? _receiver;
    private SaslSession? _sasl;
    private ISessionExtensions? _extensions;
    private ITransactionExtensions? _transactionExtensions;
    private ISessionHandler? _sessionHandler;
    private bool _sessionHandlerResolved;
    private Activity? _activity;
    private Activity? _transactionActivity;
    private readonly bool _expectProxyHeader;
    private bool _xclientAllowed;
    private bool _firstReadChecked;

    /// <param name="services">What every connection of the server shares.</param>
    /// <param name="transport">The connection's pipes.</param>
    /// <param name="endpoint">The endpoint's policy.</param>
    /// <param name="session">The session's facts.</param>
    /// <param name="expectProxyHeader">The connection comes from a trusted PROXY protocol source: a header must come first.</param>
    public SmtpConnection(ServerServices services, IDuplexPipe transport, EndpointSettings endpoint, SmtpSession session, bool expectProxyHeader = false)
    {
        _expectProxyHeader = expectProxyHeader;
        _services = services;
        _settings = services.Settings;
        _transport = transport;
        _endpoint = endpoint;
        _tlsSettings = services.Tls;
        _input = transport.Input;
        _output = transport.Output;
        _session = session;
        _aborted = _abortSource.Token;
    }

    /// <summary>The session's facts.</summary>
    public SmtpSession Session => _session;

    /// <summary>Completes when <see cref="RunAsync"/> has finished, whatever the way.</summary>
    public Task Completion => _completion.Task;

    /// <summary>True once <see cref="Abort"/> was called: every wait ends, and the session closes.</summary>
    internal bool AbortRequested => _abortRequested;

    /// <summary>Cancelled by <see cref="Abort"/>; what hooks and the store are given.</summary>
    internal CancellationToken Aborted => _aborted;

    /// <summary>The input now: the transport's, or the TLS layer's after the handshake.</summary>
    internal PipeReader Input => _input;

    /// <summary>The TLS layer once the handshake has succeeded, else <see langword="null"/>.</summary>
    internal TlsPipe? Tls => _tls;

    /// <summary>The extension points of the open mail transaction; set from <c>MAIL</c> until the transaction ends.</summary>
    internal ITransactionExtensions? Transaction => _transactionExtensions;

    /// <summary>The span of the open mail transaction, or <see langword="null"/> (none open, or nobody listening).</summary>
    internal Activity? TransactionActivity => _transactionActivity;

    /// <summary>The span of the session, or <see langword="null"/> when nobody listens.</summary>
    internal Activity? Activity => _activity;

    /// <summary>The AUTH side of the session, created at first need; <see langword="null"/> when AUTH is not configured.</summary>
    private SaslSession? Sasl => _sasl ?? (_settings.Authentication is null || !_endpoint.OfferAuthentication ? null : _sasl = new SaslSession(this, _services, _session, _endpoint));

    /// <summary>True while a SASL exchange waits for the client's next response line.</summary>
    private bool InSaslExchange => _sasl is { InExchange: true };

    /// <summary>AUTH is offered on this session: a hook is set, and TLS is up or the operator allows AUTH without it.</summary>
    private bool OffersAuth => Sasl is { IsOffered: true };

    /// <summary>
    /// Asks the connection to end gracefully: a connection waiting for a command gets <c>421 4.3.2</c> now; one
    /// receiving a message finishes it first.
    /// </summary>
    public void RequestShutdown()
    {
        _shutdownRequested = true;
        if (_waitingForCommand)
        {
            _input.CancelPendingRead();
        }
    }

    /// <summary>
    /// Ends the session now, from any thread: an idle session gets <c>421 4.3.2</c>, a message being received is
    /// aborted (its store's token is cancelled; it is never acknowledged), a hook's token is cancelled, and a TLS
    /// handshake in progress ends without a byte in plaintext. The one abort path: a flag, a cancelled token and a
    /// cancelled read (and flush), checked wherever a read returns cancelled.
    /// </summary>
    public void Abort()
    {
        _abortRequested = true;
        _shutdownRequested = true;
        // Neither a registration of the application's that throws nor a session that ended meanwhile may stop the
        // caller (StopAsync aborts every session), and the read is cancelled whatever the token's callbacks did.
        try
        {
            _abortSource.Cancel();
        }
#pragma warning disable CA1031
        catch (Exception)
        {
        }

        try
        {
            _input.CancelPendingRead();
            if (_flushing)
            {
                _output.CancelPendingFlush();
            }
        }
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Serves the session until it ends. Never throws for anything the client does.</summary>
    /// <remarks>
    /// The command loop is written out here rather than in a method of its own: while a session waits for a command,
    /// every async method on the way holds a state machine box, and one box less is ~150 bytes per idle session.
    /// </remarks>
    public async Task RunAsync()
    {
        // Every event of this connection, the application's included, carries the session id and the client's address.
        using var logScope = Log.BeginConnectionScope(_services.Logger, _session);
        _activity = SmtpActivities.StartSession(_session, _endpoint);
        Log.ConnectionOpened(_services.Logger, _session.RemoteEndPoint, _session.LocalEndPoint);
        _services.Heartbeat.Register(this, ShortestTimeout());
        try
        {
            // Before a PROXY header nothing at all is said: the proxy, not a client, is on the line.
            _silent = true;
            if (_expectProxyHeader && !await ReadProxyHeaderAsync().ConfigureAwait(false))
            {
                await FlushAsync().ConfigureAwait(false);
                return;
            }

            // The session's span names the client, not the proxy.
            SmtpActivities.SetClient(_activity, _session);
            _xclientAllowed = _settings.XclientSources.Contains((_session.RemoteEndPoint as System.Net.IPEndPoint)?.Address);
            _extensions = _services.Extensions.OpenSession();
            _session.Services = _extensions.Services;
            _silent = _endpoint.ImplicitTls;
            // Implicit TLS (RFC 8314): the handshake comes first and nothing is ever said in plaintext.
            if (_endpoint.ImplicitTls && !await StartTlsAsync(isImplicit: true).ConfigureAwait(false))
            {
                return;
            }

            if (!await AdmitAsync().ConfigureAwait(false))
            {
                await FlushAsync().ConfigureAwait(false);
                return;
            }

            Write(Greeting);
            SetDeadline(_settings.GreetingTimeout, TimeoutPhase.Greeting);
            while (true)
            {
                await FlushAsync().ConfigureAwait(false);

                _waitingForCommand = true;
                ReadResult result;
                try
                {
                    if (_shutdownRequested)
                    {
                        WriteFarewell(Replies.ShuttingDown);
                        break;
                    }

                    result = await _input.ReadAsync().ConfigureAwait(false);
                }
                finally
                {
                    _waitingForCommand = false;
                }

                var buffer = result.Buffer;
                if (result.IsCanceled)
                {
                    if (_shutdownRequested)
                    {
                        _input.AdvanceTo(buffer.Start, buffer.End);
                        WriteFarewell(Replies.ShuttingDown);
                        break;
                    }

                    if (IsExpired)
                    {
                        _input.AdvanceTo(buffer.Start, buffer.End);
                        OnTimeout(_phase);
                        break;
                    }

                    // A stress deadline that stopped counting (the load dropped) between the alarm and now: watch it again.
                    ArmAlarm(Volatile.Read(ref _deadline), Volatile.Read(ref _stressDeadline));
                }

                if (!_firstReadChecked && !buffer.IsEmpty)
                {
                    // A version 2 PROXY header from a client that is not a trusted proxy: proxies send the header in
                    // one write, so the first read holds its signature. (Split, it still ends the session: the
                    // signature ends in a bare LF.)
                    _firstReadChecked = true;
                    if (StartsWithProxyV2Signature(buffer))
                    {
                        _input.AdvanceTo(buffer.Start, buffer.End);
                        RefuseProxyHeader();
                        break;
                    }
                }

                var action = ConnectionAction.Continue;
                var progressed = false;
                while (action == ConnectionAction.Continue)
                {
                    var authLine = IsAuthLine(_partial.Span, buffer);
                    var maxLength = authLine ? _settings.Authentication!.MaxLineLength : _settings.MaxCommandLineLength;
                    var carried = !_partial.IsEmpty;
                    var status = carried
                        ? _partial.TryComplete(ref _lines, ref buffer, maxLength, out var line)
                        : _lines.TryRead(ref buffer, maxLength, out line);
                    if (status == LineStatus.Incomplete)
                    {
                        break;
                    }

                    progressed = true;
                    action = status switch
                    {
                        LineStatus.Line => await ExecuteAsync(line, buffer.Length).ConfigureAwait(false),
                        LineStatus.TooLong => OnLineTooLong(authLine),
                        LineStatus.BareLineFeed => Violation(Replies.BareLineFeed, "bare_lf_in_command", "bare LF in command"),
                        _ => Violation(Replies.BareCarriageReturn, "bare_cr_in_command", "bare CR in command"),
                    };

                    if (_transactionExtensions is not null && _transaction is null)
                    {
                        // The transaction ended without content (RSET, EHLO, a refused MAIL): its scope goes now.
                        await EndTransactionAsync().ConfigureAwait(false);
                    }

                    if (carried)
                    {
                        // The line ran (it was a view of the carry): give the buffer back.
                        _partial.Release();
                    }
                }

                if (action == ConnectionAction.Continue && !buffer.IsEmpty)
                {
                    // The start of a line whose LF has not come: carry it, so the pipe gives its read segment back
                    // while the client trickles the rest. Under the limit, or the reader would be discarding it.
                    _partial.Append(buffer);
                    buffer = buffer.Slice(buffer.End);
                }

                if (action == ConnectionAction.StartTls)
                {
                    // STARTTLS was the last byte of the buffer (checked); after the 220 only a handshake may follow, and
                    // no carried byte goes into TLS (running the STARTTLS line emptied the carry; this makes it certain).
                    _partial.Release();
                    _input.AdvanceTo(buffer.Start);
                    await FlushAsync().ConfigureAwait(false);
                    if (!await StartTlsAsync(isImplicit: false).ConfigureAwait(false))
                    {
                        break;
                    }

                    SetDeadline(_settings.CommandTimeout, TimeoutPhase.Command);
                    continue;
                }

                if (action is ConnectionAction.ReceiveChunks or ConnectionAction.DiscardChunk)
                {
                    // The chunk's octets follow the BDAT line: they are read as content (or dropped), never as commands.
                    _input.AdvanceTo(buffer.Start);
                    action = await ReceiveChunkAsync(action).ConfigureAwait(false);
                    if (_transactionExtensions is not null && _transaction is null)
                    {
                        // The LAST chunk was answered (or the message ended otherwise): the transaction's scope goes now.
                        await EndTransactionAsync().ConfigureAwait(false);
                    }

                    if (action == ConnectionAction.Close)
                    {
                        break;
                    }

                    SetDeadline(_settings.CommandTimeout, TimeoutPhase.Command);
                    continue;
                }

                if (action == ConnectionAction.ReceiveData)
                {
                    // DATA was the last command of its group, so nothing remains in the buffer.
                    _input.AdvanceTo(buffer.Start);
                    action = await ReceiveMessageAsync().ConfigureAwait(false);
                    if (_transaction is null)
                    {
                        // The message was received (or lost): the transaction is over. A refused DATA keeps it open.
                        await EndTransactionAsync().ConfigureAwait(false);
                    }
                    if (action == ConnectionAction.Close)
                    {
                        break;
                    }

                    SetDeadline(_settings.CommandTimeout, TimeoutPhase.Command);
                    continue;
                }

                _input.AdvanceTo(buffer.Start, buffer.End);
                if (action == ConnectionAction.Close || result.IsCompleted)
                {
                    break;
                }

                if (progressed)
                {
                    SetDeadline(_settings.CommandTimeout, TimeoutPhase.Command);
                }
            }

            await FlushAsync().ConfigureAwait(false);
        }
        catch (Exception) when (_abortRequested)
        {
            // Aborted (server stop, or the caller's token): say 421 if the session may still speak, then close.
            SmtpActivities.Fail(_activity, "aborted");
            await SayFarewellAsync(Replies.ShuttingDown).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or TimeoutException or OperationCanceledException)
        {
            Log.ConnectionError(_services.Logger, ex);
            SmtpActivities.Fail(_activity, ex.GetType().FullName!);
        }
#pragma warning disable CA1031 // One broken connection must never take the server down.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // Our own bug, or the runtime's: the client is told to come back later (go-smtp does the same).
            Log.UnexpectedError(_services.Logger, ex);
            SmtpActivities.Fail(_activity, ex.GetType().FullName!);
            await SayFarewellAsync(HandlerFailed).ConfigureAwait(false);
        }
        finally
        {
            _partial.Release();
            _services.Heartbeat.Unregister(this);
            _receiver?.Dispose();
            if (_tls is not null)
            {
                await _tls.DisposeAsync().ConfigureAwait(false);
            }

            // A transaction cut short (disconnect mid-DATA, abort) ends here; the session's scope outlives the close hook.
            SmtpActivities.Fail(_transactionActivity, "session_closed");
            await EndTransactionAsync().ConfigureAwait(false);
            await NotifyClosedAsync().ConfigureAwait(false);
            if (_extensions is not null)
            {
                _session.Services = null;
                await DisposeScopeAsync(_extensions).ConfigureAwait(false);
            }

            Log.ConnectionClosed(_services.Logger, _session.MessageCount);
            SmtpActivities.StopSession(_activity, _session);
            _completion.TrySetResult();
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _services.Heartbeat.Unregister(this);
        _abortSource.Dispose();
    }

    /// <summary>Writes the last reply of a session that closes now (once: a shutdown reply is never repeated).</summary>
    internal void WriteFarewell(SmtpReply reply)
    {
        _farewellWritten = true;
        Write(reply);
    }

    /// <summary>
    /// The last word on a path that skipped the normal flush: the farewell reply unless one was written already or the
    /// session may not speak in plaintext now (a TLS handshake in progress), then a flush bounded in time.
    /// </summary>
    private async ValueTask SayFarewellAsync(SmtpReply reply)
    {
        if (_silent)
        {
            return;
        }

        try
        {
            if (!_farewellWritten)
            {
                WriteFarewell(reply);
            }

            using var timeout = new CancellationTokenSource(FarewellTimeout, _services.Clock.Time);
            await _output.FlushAsync(timeout.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Best effort: the transport may be gone; the session closes either way.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Says 421 for a deadline that passed in <paramref name="phase"/>, logs and counts it.</summary>
    internal void OnTimeout(TimeoutPhase phase)
    {
        Log.Timeout(_services.Logger, phase.Describe());
        SmtpActivities.Fail(_activity, "timeout");
        _services.Metrics.Timeouts.Add(1, _endpoint.MetricTag, new KeyValuePair<string, object?>("phase", phase.MetricName()));
        WriteFarewell(Replies.Timeout);
    }

    private async ValueTask<bool> AdmitAsync()
    {
        // Resolved inside the hook call: a handler that cannot be created is a failing handler (421), not a crash.
        var refusal = await InvokeHookAsync(HookKind.SessionHandler, (object?)null,
            static (_, c, ct) => c.SessionHandler() is { } h ? h.OnConnectedAsync(c._session, ct) : default,
            HandlerFailed, HandlerFailed.Code).ConfigureAwait(false);
        if (refusal is not null)
        {
            Log.ConnectionRefusedByHandler(_services.Logger, refusal.Code);
            SmtpActivities.Fail(_activity, "session_refused");
            _services.Metrics.ConnectionsRefused.Add(1, _endpoint.MetricTag, new KeyValuePair<string, object?>("reason", "session_handler"));
            Write(refusal);
            return false;
        }

        if (_settings.GreetingDelay > TimeSpan.Zero && !_endpoint.ImplicitTls && await IsEarlyTalkerAsync().ConfigureAwait(false))
        {
            Log.EarlyTalker(_services.Logger);
            SmtpActivities.Fail(_activity, "early_talker");
            _services.Metrics.Violation("early_talker", _endpoint.MetricTag);
            Write(Replies.EarlyTalker);
            return false;
        }

        return true;
    }

    private async ValueTask<bool> IsEarlyTalkerAsync()
    {
        SetDeadline(_settings.GreetingDelay, TimeoutPhase.Greeting);
        var result = await _input.ReadAsync().ConfigureAwait(false);
        var talked = !result.Buffer.IsEmpty || result.IsCompleted;
        _input.AdvanceTo(result.Buffer.Start);
        return talked;
    }

    /// <summary>Content is read in bulk; commands are waited for without a buffer (see <see cref="ZeroByteReadGate"/>).</summary>
    internal void SetBulkReads(bool bulk)
    {
        if (_transport is IReadGateOwner plain)
        {
            plain.ReadGate.Bulk = bulk;
        }

        if (_tls is not null)
        {
            _tls.ReadGate.Bulk = bulk;
        }
    }

    /// <summary>
    /// Hands the transaction to the <see cref="MessageReceiver"/> after <c>354</c>: it leaves the connection, whatever
    /// the outcome; unless the filter's message start hook refuses it first.
    /// </summary>
    private ValueTask<ConnectionAction> ReceiveMessageAsync(bool startChecked = false)
    {
        if (!startChecked && MessageStartHook() is { } hook)
        {
            return ReceiveMessageAfterHookAsync(hook);
        }

        Write(StartMailInput);
        var envelope = _transaction!;
        _transaction = null;
        return (_receiver ??= new MessageReceiver(this, _services, _session, _endpoint)).ReceiveMessageAsync(envelope);
    }

    /// <summary>
    /// Runs the BDAT just accepted or refused: the receiver reads the message's chunks (the transaction leaves the
    /// connection unless it failed before LAST), or drops the refused chunk before the refusal is written.
    /// </summary>
    private async ValueTask<ConnectionAction> ReceiveChunkAsync(ConnectionAction action)
    {
        var receiver = _receiver ??= new MessageReceiver(this, _services, _session, _endpoint);
        if (action == ConnectionAction.DiscardChunk)
        {
            // RFC 3030 §2: the data of a failed BDAT is accepted and discarded before the reply (T47).
            action = await receiver.DiscardChunkAsync(_chunkSize).ConfigureAwait(false);
            return action == ConnectionAction.Close ? action : Error(RepeatLmtpRefusal(_chunkRefusal!));
        }

        if (MessageStartHook() is { } hook && await CheckMessageStartAsync(hook).ConfigureAwait(false) is { } refusal)
        {
            // Refused before its first chunk is taken: the chunk is still read and dropped, and the transaction's
            // later chunks are refused until RSET.
            _bdatFailed = true;
            action = await receiver.DiscardChunkAsync(_chunkSize).ConfigureAwait(false);
            return action == ConnectionAction.Close ? action : Error(refusal);
        }

        action = await receiver.ReceiveChunksAsync(_transaction!, _chunkSize, _chunkLast).ConfigureAwait(false);
        if (receiver.TransactionFailed)
        {
            _bdatFailed = true;
        }
        else
        {
            _transaction = null;
        }

        return action;
    }

    private ValueTask<ConnectionAction> ExecuteAsync(in ReadOnlySequence<byte> line, long bytesAfter)
    {
        if (line.IsSingleSegment)
        {
            return Execute(line.FirstSpan, bytesAfter);
        }

        // Rare: a line split across pipe segments. It is bounded by the line limit, so copy it once.
        var rented = ArrayPool<byte>.Shared.Rent((int)line.Length);
        try
        {
            line.CopyTo(rented);
            return Execute(rented.AsSpan(0, (int)line.Length), bytesAfter);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private ValueTask<ConnectionAction> Execute(ReadOnlySpan<byte> line, long bytesAfter)
    {
        if (_sasl is { InExchange: true } sasl)
        {
            return sasl.SaslResponse(line);
        }

        var verb = VerbParser.Parse(line, out var arguments);
        if (verb == SmtpVerb.Unknown && line.StartsWith("PROXY "u8))
        {
            // A trusted proxy's header was read before the greeting; this one claims an address it may not.
            return Done(RefuseProxyHeader());
        }

        if (line.Contains((byte)0))
        {
            if (verb == SmtpVerb.Bdat && _settings.EnableChunking)
            {
                // A BDAT line that cannot be read cannot be framed: its chunk would run as commands (T48).
                return Done(Violation(Replies.BdatSyntax, "nul_in_command", "NUL in a BDAT command"));
            }

            _services.Metrics.Violation("nul_in_command", _endpoint.MetricTag);
            return Done(Error(verb switch
            {
                SmtpVerb.Mail => Replies.NulInSender,
                SmtpVerb.Rcpt => Replies.NulInRecipient,
                _ => Replies.NulInCommand,
            }));
        }

        if (_endpoint.RequireTls && _tls is null && verb is not (SmtpVerb.Ehlo or SmtpVerb.Helo or SmtpVerb.Lhlo or SmtpVerb.StartTls or SmtpVerb.Noop or SmtpVerb.Rset or SmtpVerb.Quit))
        {
            if (verb == SmtpVerb.Bdat && _settings.EnableChunking)
            {
                // Refused like any command before TLS, but its chunk is still read and dropped, never run.
                return Done(Bdat(arguments, Replies.MustStartTls));
            }

            return Done(Error(verb == SmtpVerb.Unknown ? Replies.CommandUnrecognized : Replies.MustStartTls));
        }

        switch (verb)
        {
            case SmtpVerb.StartTls:
                return Done(StartTls(arguments, bytesAfter));
            case SmtpVerb.Ehlo or SmtpVerb.Helo or SmtpVerb.Lhlo:
                return Hello(verb, arguments);
            case SmtpVerb.Mail:
                return Mail(arguments);
            case SmtpVerb.Rcpt:
                return Rcpt(arguments);
            case SmtpVerb.Data:
                return Done(Data(arguments, bytesAfter));
            case SmtpVerb.Rset:
                if (!arguments.IsEmpty)
                {
                    return Done(Error(Replies.NoArguments));
                }

                _transaction = null;
                _bdatFailed = false;
                _transactionEndReason = SmtpTransactionEndReason.Reset;
                return Done(Reply(Replies.Ok));
            case SmtpVerb.Noop:
                return Done(Reply(Replies.Ok));
            case SmtpVerb.Quit:
                Write(Replies.Bye);
                return Done(ConnectionAction.Close);
            case SmtpVerb.Vrfy:
                return Done(arguments.IsEmpty ? Error(Replies.VrfySyntax) : Reply(Replies.CannotVrfy));
            case SmtpVerb.Help:
                return Done(Reply(_settings.GetHelpReply(_endpoint.IsLmtp, OffersStartTls, Sasl?.AdvertisedMechanisms() is not null, _xclientAllowed)));
            case SmtpVerb.Auth:
                return Sasl is { } auth ? auth.Auth(arguments, _greeted, _transaction is not null) : Done(Error(Replies.NotImplemented));
            case SmtpVerb.Xclient:
                return Done(Xclient(arguments));
            case SmtpVerb.Bdat:
                return Done(Bdat(arguments, refusal: null));
            case SmtpVerb.Expn:
                return Done(Error(Replies.NotImplemented));
            default:
                return Done(Error(Replies.CommandUnrecognized));
        }
    }

    private ValueTask<ConnectionAction> Greet(ReadOnlySpan<byte> arguments, bool extended)
    {
        arguments = arguments.TrimEnd((byte)' ');
        if (arguments.IsEmpty || arguments.Length > 255)
        {
            return Done(Error(extended ? Replies.EhloSyntax : Replies.HeloSyntax));
        }

        foreach (var b in arguments)
        {
            if (b is < 0x21 or > 0x7E)
            {
                return Done(Error(b >= 0x80 ? Replies.GreetingNotAscii : extended ? Replies.EhloSyntax : Replies.HeloSyntax));
            }
        }

        // RFC 5321 §4.1.4: EHLO/HELO ends any transaction in progress.
        _transaction = null;
        _bdatFailed = false;
        _transactionEndReason = SmtpTransactionEndReason.NewGreeting;
        _greeted = true;
        _session.HeloName = System.Text.Encoding.ASCII.GetString(arguments);
        _session.IsExtended = extended;
        var reply = GreetingReply(extended);
        return _sessionHandler is IGreetingHook hook ? GreetAsync(hook, reply, EndTransactionAsync()) : Done(Reply(reply));
    }

    private ValueTask<ConnectionAction> Mail(ReadOnlySpan<byte> arguments)
    {
        if (!_greeted)
        {
            return Done(Error(SendHelloFirst));
        }

        if (_transaction is not null)
        {
            return Done(Error(Replies.NestedMail));
        }

        if (RequiresAuthentication && !_session.IsAuthenticated)
        {
            return Done(Error(Authentication.SaslReplies.AuthenticationRequired));
        }

        var error = EnvelopeParser.ParseMail(arguments, _settings, OffersAuth, _session.IsSecure, MaxMessageSize, out var envelope);
        if (error is not null)
        {
            return Done(Error(error));
        }

        BeginTransaction(envelope!);
        return CheckSenderAsync(envelope!);
    }

    /// <summary>
    /// Opens the transaction's extension points (a scope of its own under a container) and its span, at <c>MAIL</c>:
    /// the filter that decides on the sender is already the transaction's. A refused sender ends them again.
    /// </summary>
    private void BeginTransaction(SmtpEnvelope envelope)
    {
        Debug.Assert(_transactionExtensions is null, "The previous transaction's scope was ended.");
        _transactionActivity = SmtpActivities.StartTransaction(_activity, _session, _endpoint);
        _transactionExtensions = _extensions!.BeginTransaction();
        _session.Services = _transactionExtensions.Services ?? _session.Services;
        OpenTransaction(envelope);
    }

    /// <summary>
    /// Ends the transaction's span and extension points, if a transaction is open: after the reply to its content,
    /// at RSET or a new greeting, when its sender was refused, or when the session closes. Not an async method, so
    /// the session's span is current again for the caller.
    /// </summary>
    private ValueTask EndTransactionAsync()
    {
        var extensions = _transactionExtensions;
        if (extensions is null)
        {
            return default;
        }

        _transactionExtensions = null;
        SmtpActivities.StopTransaction(_transactionActivity, _activity);
        _transactionActivity = null;
        if (EndHook(extensions) is { } hook)
        {
            return FinishTransactionAsync(extensions, hook);
        }

        _session.Transaction = null;
        _session.Services = _extensions?.Services;
        return DisposeScopeAsync(extensions);
    }

    /// <summary>Disposes a session's or transaction's extension points; a failure is logged, never rethrown.</summary>
    private async ValueTask DisposeScopeAsync(IAsyncDisposable scope)
    {
        try
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The application's Dispose failing must not end the session or the server.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.ScopeDisposeFailed(_services.Logger, ex);
        }
    }

    /// <summary>The session handler, resolved once per session, so that a transient one is the same at connect and at close.</summary>
    private ISessionHandler? SessionHandler()
    {
        if (!_sessionHandlerResolved)
        {
            // Set first: a handler that cannot be created fails once, not at connect and again at close.
            _sessionHandlerResolved = true;
            _sessionHandler = _extensions!.GetSessionHandler();
        }

        return _sessionHandler;
    }

    private async ValueTask<ConnectionAction> CheckSenderAsync(SmtpEnvelope envelope)
    {
        var reply = await InvokeHookAsync(HookKind.MailboxFilter, envelope, static (e, c, ct) => c._transactionExtensions!.GetMailboxFilter().CheckSenderAsync(c._session, e, ct), Replies.LocalError, Replies.LocalError.Code).ConfigureAwait(false)
            ?? Replies.LocalError;

        if (!reply.IsPositive)
        {
            _transactionEndReason = SmtpTransactionEndReason.SenderRefused;
            SmtpActivities.SenderRefused(_transactionActivity, reply.Code);
            return Error(reply);
        }

        _transaction = envelope;
        return Reply(reply);
    }

    private ValueTask<ConnectionAction> Rcpt(ReadOnlySpan<byte> arguments)
    {
        var transaction = _transaction;
        if (transaction is null)
        {
            return Done(Error(Replies.NeedMail));
        }

        var error = EnvelopeParser.ParseRcpt(arguments, transaction.IsSmtpUtf8, _settings.EnableDsn, out var recipient);
        if (error is not null)
        {
            return Done(Error(error));
        }

        if (transaction.Recipients.Count >= _settings.MaxRecipients)
        {
            // RFC 5321 §4.5.3.1.10: 452, so the client sends the rest in another transaction; not a client error.
            return Done(Reply(Replies.TooManyRecipients));
        }

        return CheckRecipientAsync(transaction, recipient!);
    }

    private async ValueTask<ConnectionAction> CheckRecipientAsync(SmtpEnvelope transaction, SmtpRecipient recipient)
    {
        var reply = await InvokeHookAsync(HookKind.MailboxFilter, (transaction, recipient), static (s, c, ct) => c._transactionExtensions!.GetMailboxFilter().CheckRecipientAsync(c._session, s.transaction, s.recipient, ct), Replies.LocalError, Replies.LocalError.Code).ConfigureAwait(false)
            ?? Replies.LocalError;

        if (!reply.IsPositive)
        {
            return Error(reply);
        }

        transaction.AddRecipient(recipient);
        _transactionActivity?.SetTag("smtp.message.recipients", transaction.Recipients.Count);
        return Reply(reply);
    }

    private ConnectionAction Data(ReadOnlySpan<byte> arguments, long bytesAfter)
    {
        if (!arguments.IsEmpty)
        {
            return Error(Replies.NoArguments);
        }

        // RFC 2920 §3.1: DATA ends a group. Bytes already behind it were sent before our 354 (content sent early,
        // or more commands): refusing them closes the SMTP smuggling and unauthorised pipelining doors (docs/threat-model.md T41, T42).
        if (bytesAfter > 0)
        {
            return Violation(Replies.PipeliningViolation, "data_pipelining", "bytes after DATA in the same group");
        }

        if (_transaction is null)
        {
            return Error(Replies.NeedMailBeforeData);
        }

        // RFC 3030 §2 and §3: DATA never follows a BDAT chunk in the same transaction, nor MAIL with BODY=BINARYMIME.
        if (_bdatFailed)
        {
            return Error(Replies.DataAfterBdat);
        }

        if (_transaction.BodyType == SmtpBodyType.BinaryMime)
        {
            return Error(Replies.DataWithBinaryMime);
        }

        if (_transaction.Recipients.Count == 0)
        {
            return Error(NoValidRecipients);
        }

        return ConnectionAction.ReceiveData;
    }

    /// <summary>
    /// BDAT (RFC 3030 §2). A chunk is framed by its octet count alone, so a size that cannot be read (or is too large to
    /// ever be read and dropped) closes the connection: its octets would otherwise run as commands (T48). Any other
    /// refusal, <paramref name="refusal"/> included, still has the chunk read and dropped before it is written (T47).
    /// </summary>
    private ConnectionAction Bdat(ReadOnlySpan<byte> arguments, SmtpReply? refusal)
    {
        switch (BdatArguments.Parse(arguments, out var size, out var last))
        {
            case BdatParse.Syntax:
                return Violation(Replies.BdatSyntax, "bdat_syntax", "unparseable BDAT command");
            case BdatParse.OutOfRange:
                return Violation(Replies.ChunkSizeOutOfRange, "bdat_size_out_of_range", "BDAT chunk size out of range");
        }

        if (!_settings.EnableChunking)
        {
            // Not offered, so not implemented (502); but the client framed octets behind it, and they are read and
            // dropped like any refused chunk's, never run as commands (T48). One reply, also on LMTP: no message ended.
            _chunkSize = size;
            _chunkLast = false;
            _chunkRefusal = Replies.NotImplemented;
            return ConnectionAction.DiscardChunk;
        }

        refusal ??= _transaction is null ? Replies.NeedMailBeforeBdat
            : _bdatFailed ? Replies.BdatTransactionFailed
            : _transaction.Recipients.Count == 0 ? NoValidRecipients
            : null;

        _chunkSize = size;
        _chunkLast = last;
        _chunkRefusal = refusal;
        return refusal is null ? ConnectionAction.ReceiveChunks : ConnectionAction.DiscardChunk;
    }

    /// <summary>STARTTLS is offered before TLS, on a plaintext endpoint, when certificates are configured.</summary>
    private bool OffersStartTls => _tls is null && _tlsSettings is not null && !_endpoint.ImplicitTls && _endpoint.OfferStartTls;

    private ConnectionAction StartTls(ReadOnlySpan<byte> arguments, long bytesAfter)
    {
        if (_tls is not null)
        {
            // RFC 3207 §4.2: never a second handshake; the session stays usable.
            return Error(Replies.TlsAlreadyActive);
        }

        if (!OffersStartTls)
        {
            return Error(Replies.NotImplemented);
        }

        if (!arguments.IsEmpty)
        {
            return Error(Replies.StartTlsSyntax);
        }

        // The hard cutover: a byte already behind STARTTLS was sent before our 220, and would either be run as a
        // command on one side of the upgrade or fed to the handshake. Refuse the whole group (CVE-2011-0411 class).
        if (bytesAfter > 0)
        {
            // Violation() logs the warning and counts the metric, once.
            return Violation(Replies.StartTlsPipelining, "starttls_pipelining", "bytes after STARTTLS in the same group");
        }

        if (_transaction is not null)
        {
            return Error(Replies.StartTlsInTransaction);
        }

        Write(ReadyToStartTls);
        return ConnectionAction.StartTls;
    }

    /// <summary>
    /// Runs the handshake on the transport pipes and, on success, starts the session again from nothing
    /// (RFC 3207 §4.2): no HELO name, no transaction, a new EHLO required. On failure the connection ends silently.
    /// </summary>
    private async ValueTask<bool> StartTlsAsync(bool isImplicit)
    {
        if (_tlsSettings is null)
        {
            return false;
        }

        // The handshake has its own timeout; keep the connection's timer out of its way. From here until the
        // handshake succeeds not one plaintext byte may be written, not even a 421.
        _silent = true;
        SetDeadline(_tlsSettings.HandshakeTimeout + TimeSpan.FromSeconds(5), TimeoutPhase.Command);

        // A connection waiting for its handshake is idle for a graceful shutdown: RequestShutdown cancels the read
        // (nothing can be said before TLS), so a stalled handshake never holds StopAsync for the handshake timeout.
        _waitingForCommand = true;
        TlsHandshakeResult result;
        try
        {
            result = _shutdownRequested
                ? TlsHandshakeResult.Fail(TlsFailureKind.Closed, "closed: server shutting down")
                : await TlsHandshake.RunAsync(_transport, _tlsSettings, _session, isImplicit, _aborted).ConfigureAwait(false);
        }
        finally
        {
            _waitingForCommand = false;
        }

        if (result.Pipe is null)
        {
            var (kind, failure) = _shutdownRequested ? (TlsFailureKind.Closed, "closed: server shutting down") : (result.FailureKind, result.Failure!);
            Log.TlsHandshakeFailed(_services.Logger, failure);
            SmtpActivities.Fail(_activity, "tls_" + TlsFailureTag(kind));
            _services.Metrics.TlsHandshakeFailures.Add(1, _endpoint.MetricTag, new KeyValuePair<string, object?>("reason", TlsFailureTag(kind)));
            return false;
        }

        _silent = false;
        _tls = result.Pipe;
        _input = result.Pipe.Input;
        _output = result.Pipe.Output;
        _session.Tls = result.Info;
        _session.HeloName = null;
        _session.IsExtended = false;
        _greeted = false;
        _transaction = null;
        _bdatFailed = false;
        _lines = default;
        _sasl?.Reset();
        Log.TlsEstablished(_services.Logger, result.Info!.ToString(), result.Info.ServerName);
        SmtpActivities.TlsEstablished(_activity, result.Info);
        _services.Metrics.TlsHandshakes.Add(1, _endpoint.MetricTag, new KeyValuePair<string, object?>("protocol", SmtpTlsInfo.ProtocolName(result.Info.Protocol)));
        return true;
    }

    private static string TlsFailureTag(TlsFailureKind kind) => kind switch
    {
        TlsFailureKind.NotTls => "not_tls",
        TlsFailureKind.Timeout => "timeout",
        TlsFailureKind.Closed => "closed",
        _ => "failed",
    };

    private ConnectionAction OnLineTooLong(bool authLine)
    {
        Log.LineTooLong(_services.Logger);
        _services.Metrics.Violation("line_too_long", _endpoint.MetricTag);
        if (authLine)
        {
            // RFC 4954 §4: 500 5.5.6 for an over-long AUTH line; any exchange in progress is over.
            _sasl?.EndExchange();
            return Error(Authentication.SaslReplies.LineTooLong);
        }

        return Error(Replies.LineTooLong);
    }

    /// <summary>
    /// True when the next line belongs to AUTH (a response inside an exchange, or an AUTH command), which may be up to
    /// the SASL line limit instead of the command limit. Decided before the line is complete, so a long AUTH line
    /// that arrives in pieces is measured against the right limit; <c>IsDiscarding</c> keeps the decision made at its start.
    /// </summary>
    private bool IsAuthLine(ReadOnlySpan<byte> carried, in ReadOnlySequence<byte> buffer)
    {
        if (_settings.Authentication is null)
        {
            return false;
        }

        if (_lines.IsDiscarding)
        {
            return _discardingAuthLine;
        }

        if (InSaslExchange)
        {
            return _discardingAuthLine = true;
        }

        // The line starts in the carry, if one is held, and goes on in the buffer.
        Span<byte> head = stackalloc byte[5];
        if (carried.Length + buffer.Length < 5)
        {
            return _discardingAuthLine = false;
        }

        var fromCarry = Math.Min(carried.Length, head.Length);
        carried[..fromCarry].CopyTo(head);
        buffer.Slice(0, head.Length - fromCarry).CopyTo(head[fromCarry..]);
        return _discardingAuthLine = Ascii.EqualsIgnoreCase(head, "AUTH "u8);
    }

    /// <summary>Refuses a protocol violation and closes: logs the description, counts the snake_case kind.</summary>
    internal ConnectionAction Violation(SmtpReply reply, string kind, string description)
    {
        Log.ProtocolViolation(_services.Logger, description);
        SmtpActivities.Fail(_activity, kind);
        _services.Metrics.Violation(kind, _endpoint.MetricTag);
        Write(reply);
        return ConnectionAction.Close;
    }

    private ConnectionAction Reply(SmtpReply reply)
    {
        Write(reply);
        return ConnectionAction.Continue;
    }

    /// <summary>Writes an error reply and counts it; past the limit, adds <c>421 4.7.0</c> and closes.</summary>
    internal ConnectionAction Error(SmtpReply reply)
    {
        Write(reply);
        if (reply.Code == 421)
        {
            // RFC 5321 §3.8: 421 announces that the server closes the channel; a hook that says it gets it closed.
            return ConnectionAction.Close;
        }

        if (++_errors >= _settings.MaxBadCommands)
        {
            Log.TooManyErrors(_services.Logger);
            SmtpActivities.Fail(_activity, "too_many_errors");
            WriteFarewell(Replies.TooManyErrors);
            return ConnectionAction.Close;
        }

        return ConnectionAction.Continue;
    }

    private static ValueTask<ConnectionAction> Done(ConnectionAction action) => new(action);

    /// <summary>Writes a reply into the output; it goes out with the next flush.</summary>
    internal void Write(SmtpReply reply)
    {
        _output.Write(reply.WireBytes);
        _pendingFlush = true;
    }

    /// <summary>A span of the output for a reply written in place (a 334 challenge); <see cref="AdvanceReply"/> commits it.</summary>
    internal Span<byte> GetReplySpan(int sizeHint) => _output.GetSpan(sizeHint);

    /// <summary>Commits <paramref name="count"/> bytes written into <see cref="GetReplySpan"/>; they go out with the next flush.</summary>
    internal void AdvanceReply(int count)
    {
        _output.Advance(count);
        _pendingFlush = true;
    }

    /// <summary>Sends the replies written since the last flush; throws when the client will not read them in time.</summary>
    internal async ValueTask FlushAsync()
    {
        if (!_pendingFlush)
        {
            return;
        }

        _pendingFlush = false;
        _flushing = true;
        FlushResult result;
        try
        {
            result = await _output.FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            _flushing = false;
        }

        if (result.IsCanceled && _abortRequested)
        {
            throw new OperationCanceledException("The session was aborted while the client was not reading.");
        }

        if (result.IsCanceled)
        {
            // The deadline passed while the client would not read our replies.
            throw new TimeoutException("The client did not read the replies in time.");
        }
    }

    /// <summary>True once the deadline has passed, or its stress deadline while the server is under stress.</summary>
    internal bool IsExpired
    {
        get
        {
            var now = _services.Clock.Now;
            return now >= Volatile.Read(ref _deadline)
                || (now >= Volatile.Read(ref _stressDeadline) && _services.Limiter.UnderStress);
        }
    }

    /// <summary>
    /// Moves the deadline (field writes: the heartbeat finds them); the previous one no longer applies. Waits for the
    /// greeting and for commands also get the shorter stress deadline, which counts only while the server is under stress.
    /// </summary>
    internal void SetDeadline(TimeSpan timeout, TimeoutPhase phase)
    {
        _phase = phase;
        var deadline = _services.Clock.After(timeout);
        var stressDeadline = phase != TimeoutPhase.Content && _settings.StressTimeout < timeout
            ? _services.Clock.After(_settings.StressTimeout)
            : long.MaxValue;
        Volatile.Write(ref _stressDeadline, stressDeadline);
        Volatile.Write(ref _deadline, deadline);
        ArmAlarm(deadline, stressDeadline);
    }

    /// <summary>The shortest time any deadline of this connection can be set to: it sets the heartbeat's resolution.</summary>
    private TimeSpan ShortestTimeout()
    {
        var shortest = Min(Min(_settings.GreetingTimeout, _settings.CommandTimeout), Min(_settings.DataBlockTimeout, _settings.DataTimeout));
        if (_settings.GreetingDelay > TimeSpan.Zero)
        {
            shortest = Min(shortest, _settings.GreetingDelay);
        }

        if (_expectProxyHeader)
        {
            shortest = Min(shortest, _settings.ProxyHeaderTimeout);
        }

        return shortest;

        static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
    }

    /// <summary>The heartbeat found the deadline passed: the waiting read (or flush) returns cancelled and sees <see cref="IsExpired"/>.</summary>
    internal override void OnDeadline()
    {
        if (!IsExpired)
        {
            // Moved while the heartbeat was on its way, or a stress deadline that no longer counts because the load
            // has dropped: watch the deadlines again (a stress deadline fires at once if stress returns).
            ArmAlarm(Volatile.Read(ref _deadline), Volatile.Read(ref _stressDeadline));
            return;
        }

        // Cancel only what is waiting: a flush cancelled while none is in flight would fail the next one.
        if (_flushing)
        {
            _output.CancelPendingFlush();
        }
        else
        {
            _input.CancelPendingRead();
        }
    }

    private async ValueTask NotifyClosedAsync()
    {
        if (_extensions is null)
        {
            return;
        }

        // The close hook runs even after an abort: it gets a token of its own that is never cancelled.
        try
        {
            if (SessionHandler() is { } handler)
            {
                await handler.OnClosedAsync(_session).ConfigureAwait(false);
            }
        }
#pragma warning disable CA1031 // A failing close hook is logged, never rethrown into the accept loop.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.NotificationFailed(_services.Logger, HookKind.SessionHandler.Describe(), ex);
        }
    }
}
