using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// One SMTP session served in memory, the tests' one in-memory client: the test writes into the server's input pipe
/// and flushes each piece explicitly, so how bytes arrive is decided by the test, not by TCP or the clock.
/// <see cref="SendPieceAsync(string)"/> waits until the server has read a piece and asks for more before the next one
/// is written: a split can never be coalesced. The server's output is read on demand, so <see cref="IsSilent"/> is
/// exact right after a piece. When the session ends, the server's side of the output is completed, which the client
/// reads as the end, as a transport would after the session.
/// </summary>
/// <remarks>
/// <see cref="Start"/> serves through <see cref="SmtpServer.ServeAsync(SmtpConnectionContext, CancellationToken)"/>
/// (endpoint, addresses and an abort callback, as a transport gives them); <see cref="ConnectAsync"/> through the
/// short form <see cref="SmtpServer.ServeAsync(IDuplexPipe, EndPoint?, EndPoint?, CancellationToken)"/>. These are the
/// only places the tests call ServeAsync: if its signature changes, they are the lines to adapt.
/// </remarks>
public sealed class PipeConnection : IAsyncDisposable
{
    /// <summary>How long a read may wait before the test fails; it only bounds a failing test.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);

    private readonly Pipe _toServer;
    private readonly Pipe _toClient = new(new PipeOptions(useSynchronizationContext: false));
    private readonly ObservedReader _serverInput;
    private readonly StringBuilder _received = new();
    private readonly Lock _lock = new();
    private Task _session;
    private bool _closed;
    private int _position;
    private long _written;

    private PipeConnection(PipeOptions? toServer)
    {
        _toServer = new Pipe(toServer ?? new PipeOptions(useSynchronizationContext: false));
        _serverInput = new ObservedReader(_toServer.Reader);
        _session = Task.CompletedTask;
    }

    /// <summary>The client's address the server sees.</summary>
    public static IPEndPoint RemoteEndPoint { get; } = new(IPAddress.Loopback, 40000);

    /// <summary>The server's address the server sees.</summary>
    public static IPEndPoint LocalEndPoint { get; } = new(IPAddress.Loopback, 25);

    /// <summary>What the client writes to the server, for tests that drive the pipe themselves (flooding, back-pressure).</summary>
    public PipeWriter Input => _toServer.Writer;

    /// <summary>Completes when the server has ended the session (and the connection closed its side of the output).</summary>
    public Task Session => _session;

    /// <summary>True once the server called the transport's abort callback (only for sessions begun with <see cref="Start"/>).</summary>
    public bool Aborted { get; private set; }

    /// <summary>
    /// Starts a session as a transport would, without reading the greeting. The session runs synchronously up to its
    /// first wait, so sessions started one after another reach the server's limits in that order.
    /// </summary>
    /// <param name="server">The server; it need not be started.</param>
    /// <param name="endpoint">The endpoint the connection arrived on; a plaintext one when null.</param>
    /// <param name="remote">The client's address; <see cref="RemoteEndPoint"/> when null.</param>
    /// <param name="toServer">The input pipe's settings (thresholds for back-pressure tests).</param>
    /// <param name="cancellationToken">Ends the session.</param>
    public static PipeConnection Start(SmtpServer server, SmtpEndpointOptions? endpoint = null, IPEndPoint? remote = null,
        PipeOptions? toServer = null, CancellationToken cancellationToken = default)
    {
        var connection = new PipeConnection(toServer);
        var context = new SmtpConnectionContext(new DuplexPipe(connection._serverInput, connection._toClient.Writer))
        {
            RemoteEndPoint = remote ?? RemoteEndPoint,
            LocalEndPoint = LocalEndPoint,
            Endpoint = endpoint,
            Abort = () => connection.Aborted = true,
        };
        connection._session = connection.CloseAfterAsync(server.ServeAsync(context, cancellationToken));
        return connection;
    }

    /// <summary>Starts a plaintext session through the short form of ServeAsync and reads the 220 greeting.</summary>
    public static async Task<PipeConnection> ConnectAsync(TestServer server)
    {
        var connection = new PipeConnection(null);
        connection._session = connection.CloseAfterAsync(server.Server.ServeAsync(
            new DuplexPipe(connection._serverInput, connection._toClient.Writer), RemoteEndPoint, LocalEndPoint));
        (await connection.ReadReplyAsync()).Should().StartWith("220 ");
        return connection;
    }

    /// <summary>Writes <paramref name="text"/> and flushes it, without waiting for the server.</summary>
    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    /// <summary>Writes <paramref name="bytes"/> and flushes them, without waiting for the server.</summary>
    public async Task SendAsync(ReadOnlyMemory<byte> bytes)
    {
        _written += bytes.Length;
        await _toServer.Writer.WriteAsync(bytes);
    }

    /// <summary>
    /// Writes <paramref name="text"/>, flushes it, and waits until the server has read everything sent so far and asks
    /// for more: the next write arrives as a separate piece.
    /// </summary>
    public Task SendPieceAsync(string text) => SendPieceAsync(Encoding.Latin1.GetBytes(text));

    /// <inheritdoc cref="SendPieceAsync(string)"/>
    public async Task SendPieceAsync(ReadOnlyMemory<byte> bytes)
    {
        await SendAsync(bytes);
        await _serverInput.WaitUntilCaughtUpAsync(_written, DefaultTimeout);
    }

    /// <summary>
    /// Like <see cref="SendPieceAsync(ReadOnlyMemory{byte})"/>, but also returns when the server ends the session instead
    /// of asking for more (a piece that closes the session, such as a bare LF): for transcripts whose end is not known.
    /// </summary>
    public async Task SendPieceOrEndAsync(ReadOnlyMemory<byte> bytes)
    {
        await SendAsync(bytes);
        await _serverInput.WaitUntilCaughtUpAsync(_written, DefaultTimeout, _session);
    }

    /// <summary>
    /// Waits until the server has read everything sent so far and waits for more. Every deadline the server sets for
    /// that wait is then set, on its clock as it is now: a fake clock advanced after this counts against that wait.
    /// </summary>
    public Task WaitUntilServerWaitsAsync() => _serverInput.WaitUntilCaughtUpAsync(_written, DefaultTimeout);

    /// <summary>
    /// The client's end as a stream (for a TLS client after STARTTLS): reads take what the server wrote and was not read
    /// yet, writes are sent at once. Disposing it leaves the connection open.
    /// </summary>
    public Stream AsStream() => new ClientStream(this);

    /// <summary>Reads what the server wrote and was not read yet, waiting for at least one byte; 0 once the session has ended (or, for an empty buffer, once there is data).</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            lock (_lock)
            {
                var available = _received.Length - _position;
                if (available > 0 && buffer.Length == 0)
                {
                    // A zero-byte read only waits for data (SslStream uses it).
                    return 0;
                }

                var count = Math.Min(buffer.Length, available);
                if (count > 0)
                {
                    var chars = new char[count];
                    _received.CopyTo(_position, chars, count);
                    Encoding.Latin1.GetBytes(chars, buffer.Span);
                    _position += count;
                    return count;
                }

                if (_closed)
                {
                    return 0;
                }
            }

            await ReceiveAsync(cancellationToken);
        }
    }

    /// <summary>Sends each byte of <paramref name="text"/> as its own piece.</summary>
    public async Task SendByteByByteAsync(string text)
    {
        foreach (var c in text)
        {
            await SendPieceAsync(c.ToString());
        }
    }

    /// <summary>Sends a command line and reads its reply.</summary>
    public async Task<string> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    public Task<string> EhloAsync(string name = "client.test") => CommandAsync("EHLO " + name);

    /// <summary>EHLO, MAIL FROM:&lt;a@c.test&gt;, RCPT TO:&lt;b@s.test&gt; and DATA, each answered as a plain server does.</summary>
    public async Task StartDataAsync()
    {
        (await EhloAsync()).Should().StartWith("250");
        (await CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("250 2.1.0 Sender OK");
        (await CommandAsync("RCPT TO:<b@s.test>")).Should().Be("250 2.1.5 Recipient OK");
        (await CommandAsync("DATA")).Should().StartWith("354 ");
    }

    /// <summary>One line without its CRLF, or null once the session has ended and nothing more is left.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (true)
        {
            lock (_lock)
            {
                var text = _received.ToString(_position, _received.Length - _position);
                var end = text.IndexOf('\n', StringComparison.Ordinal);
                if (end >= 0)
                {
                    _position += end + 1;
                    return text[..end].TrimEnd('\r');
                }

                if (_closed)
                {
                    return null;
                }
            }

            try
            {
                await ReceiveAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("No complete line from the server in time; unread: " + Unread());
            }
        }
    }

    /// <summary>One reply, its lines joined with CRLF.</summary>
    public Task<string> ReadReplyAsync(TimeSpan? timeout = null) => SmtpReplyReader.ReadReplyAsync(() => ReadLineAsync(timeout), "The session");

    /// <summary>Waits for the server to end the session and returns everything it wrote that was not read yet.</summary>
    public async Task<string> ReadToEndAsync(TimeSpan? timeout = null)
    {
        using var deadline = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (!_closed)
        {
            try
            {
                await ReceiveAsync(deadline.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("The server did not end the session in time; unread: " + Unread());
            }
        }

        return Unread(consume: true);
    }

    /// <summary>
    /// True when the server has written nothing that was not read yet. Right after <see cref="SendPieceAsync(string)"/>
    /// this is exact, not a guess from a quiet moment: the server flushes its replies before it waits for more input.
    /// </summary>
    public bool IsSilent()
    {
        if (!_closed && _toClient.Reader.TryRead(out var result))
        {
            Take(result);
        }

        return Unread().Length == 0;
    }

    /// <summary>The client closes its side: the server sees the end of its input.</summary>
    public async Task CompleteInputAsync() => await _toServer.Writer.CompleteAsync();

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync();
        await _toClient.Reader.CompleteAsync();
        await _session.WaitAsync(DefaultTimeout);
    }

    /// <summary>Waits for the session, then does what a transport does after it.</summary>
    private async Task CloseAfterAsync(Task session)
    {
        try
        {
            await session;
        }
        finally
        {
            // ServeAsync leaves closing the transport to its caller.
            await _toClient.Writer.CompleteAsync();
            await _toServer.Reader.CompleteAsync();
        }
    }

    /// <summary>Waits for more output from the server (replies are read on demand, so <see cref="IsSilent"/> can look at the pipe itself).</summary>
    private async Task ReceiveAsync(CancellationToken cancellationToken) => Take(await _toClient.Reader.ReadAsync(cancellationToken));

    private void Take(ReadResult result)
    {
        var text = Encoding.Latin1.GetString(result.Buffer);
        _toClient.Reader.AdvanceTo(result.Buffer.End);
        lock (_lock)
        {
            _received.Append(text);
            _closed = result.IsCompleted;
        }
    }

    private string Unread(bool consume = false)
    {
        lock (_lock)
        {
            var text = _received.ToString(_position, _received.Length - _position);
            if (consume)
            {
                _position = _received.Length;
            }

            return text;
        }
    }

    private sealed class ClientStream(PipeConnection connection) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => connection.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => await connection.SendAsync(buffer.ToArray());

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input => input;

        public PipeWriter Output => output;
    }

    /// <summary>
    /// The server's side of the input pipe. It counts the bytes delivered to the server; a read that cannot complete
    /// at once means the server has examined everything delivered and waits for more, so it has caught up to that count.
    /// </summary>
    private sealed class ObservedReader(PipeReader inner) : PipeReader
    {
        private readonly Lock _lock = new();
        private ReadOnlySequence<byte> _last;
        private long _consumed;
        private long _delivered;
        private long _caughtUp = -1;
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>
        /// Completes once the server has taken in at least <paramref name="bytes"/> bytes and waits for more, or once
        /// <paramref name="ended"/> (the session) has completed.
        /// </summary>
        public async Task WaitUntilCaughtUpAsync(long bytes, TimeSpan timeout, Task? ended = null)
        {
            using var deadline = new CancellationTokenSource(timeout);
            while (true)
            {
                Task changed;
                lock (_lock)
                {
                    if (_caughtUp >= bytes)
                    {
                        return;
                    }

                    changed = _changed.Task;
                }

                if (ended is { IsCompleted: true })
                {
                    return;
                }

                try
                {
                    await (ended is null ? changed : Task.WhenAny(changed, ended)).WaitAsync(deadline.Token);
                }
                catch (OperationCanceledException)
                {
                    throw new TimeoutException($"The server did not take in {bytes} bytes and wait for more (it has {_delivered}).");
                }
            }
        }

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
        {
            var read = inner.ReadAsync(cancellationToken);
            if (read.IsCompleted)
            {
                return ValueTask.FromResult(Delivered(read.Result));
            }

            TaskCompletionSource changed;
            lock (_lock)
            {
                _caughtUp = _delivered;
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            changed.TrySetResult();
            return AwaitAsync(read);
        }

        public override bool TryRead(out ReadResult result)
        {
            if (!inner.TryRead(out result))
            {
                return false;
            }

            Delivered(result);
            return true;
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            lock (_lock)
            {
                _consumed += _last.Slice(_last.Start, consumed).Length;
            }

            inner.AdvanceTo(consumed, examined);
        }

        public override void CancelPendingRead() => inner.CancelPendingRead();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        private async ValueTask<ReadResult> AwaitAsync(ValueTask<ReadResult> read) => Delivered(await read);

        private ReadResult Delivered(ReadResult result)
        {
            lock (_lock)
            {
                _last = result.Buffer;
                _delivered = _consumed + result.Buffer.Length;
            }

            return result;
        }
    }
}
