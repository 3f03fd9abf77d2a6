using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace StartTls.Smtp.LoadTest;

/// <summary>The server closed the connection while a reply was awaited.</summary>
internal sealed class ConnectionClosedException : IOException
{
    /// <summary>Initializes a new instance of the <see cref="ConnectionClosedException"/> class.</summary>
    public ConnectionClosedException()
        : base("the server closed the connection")
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConnectionClosedException"/> class.</summary>
    /// <param name="message">The message.</param>
    public ConnectionClosedException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="ConnectionClosedException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public ConnectionClosedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A reply other than the one the load tool needs to go on with a session (greeting, EHLO, STARTTLS).</summary>
internal sealed class UnexpectedReplyException : Exception
{
    /// <summary>Initializes a new instance of the <see cref="UnexpectedReplyException"/> class.</summary>
    public UnexpectedReplyException()
    {
    }

    /// <summary>Initializes a new instance of the <see cref="UnexpectedReplyException"/> class.</summary>
    /// <param name="message">The message.</param>
    public UnexpectedReplyException(string message)
        : base(message)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="UnexpectedReplyException"/> class.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public UnexpectedReplyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Initializes a new instance of the <see cref="UnexpectedReplyException"/> class.</summary>
    /// <param name="stage">Where in the session it came (greeting, EHLO, STARTTLS ...).</param>
    /// <param name="code">The reply code.</param>
    public UnexpectedReplyException(string stage, int code)
        : base($"{code} to {stage}")
    {
        FailureKey = $"{code} ({stage})";
    }

    /// <summary>The key this failure is counted under.</summary>
    public string FailureKey { get; } = "unexpected reply";
}

/// <summary>
/// One client connection: a socket, the stream on it (plain, or TLS after STARTTLS), and a reply reader that finds the
/// final line of each (possibly multi-line) reply and returns its code without allocating.
/// </summary>
internal sealed class ClientConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[4096];
    private Stream _stream;
    private CancellationTokenRegistration _abortRegistration;
    private int _start;
    private int _end;

    private ClientConnection(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: true);
    }

    /// <summary>Gets the TLS stream once STARTTLS has completed, else null.</summary>
    public SslStream? Tls => _stream as SslStream;

    /// <summary>Connects to a loopback endpoint.</summary>
    /// <param name="endPoint">The server.</param>
    /// <param name="cancellationToken">Stops the attempt.</param>
    /// <returns>The open connection; nothing has been read yet.</returns>
    public static async Task<ClientConnection> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken);
            return new ClientConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Connects to a loopback endpoint with a blocking socket, for the synchronous workers (one thread per connection:
    /// a blocking recv costs the client fewer system calls and thread switches than the async socket engine).
    /// </summary>
    /// <param name="endPoint">The server.</param>
    /// <param name="timeout">The send and receive timeout (a backstop; the duration limit aborts sooner).</param>
    /// <param name="abort">Closes the socket when cancelled (the run's duration limit), failing a blocked call.</param>
    /// <returns>The open connection; nothing has been read yet.</returns>
    public static ClientConnection Connect(IPEndPoint endPoint, TimeSpan timeout, CancellationToken abort)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = (int)timeout.TotalMilliseconds,
            SendTimeout = (int)timeout.TotalMilliseconds,
        };
        try
        {
            socket.Connect(endPoint);
            var connection = new ClientConnection(socket);
            connection._abortRegistration = abort.Register(static state => ((Socket)state!).Dispose(), socket);
            return connection;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Writes bytes in one blocking write.</summary>
    /// <param name="data">The bytes.</param>
    public void Send(ReadOnlySpan<byte> data) => _stream.Write(data);

    /// <summary>Reads one whole reply (all its lines) with blocking reads and returns its code.</summary>
    /// <returns>The three-digit reply code.</returns>
    public int ReadReply()
    {
        while (true)
        {
            if (TryTakeReply(out var code))
            {
                return code;
            }

            Compact();
            var read = _stream.Read(_buffer.AsSpan(_end));
            if (read == 0)
            {
                throw new ConnectionClosedException();
            }

            _end += read;
        }
    }

    /// <summary>Sends a command and reads its reply, blocking.</summary>
    /// <param name="command">The command line with its CRLF.</param>
    /// <returns>The reply code.</returns>
    public int Command(ReadOnlySpan<byte> command)
    {
        Send(command);
        return ReadReply();
    }

    /// <summary>Runs the TLS handshake, blocking (after the server's 220 to STARTTLS).</summary>
    /// <param name="options">The client options.</param>
    public void Upgrade(SslClientAuthenticationOptions options)
    {
        if (_start != _end)
        {
            throw new InvalidDataException("the server sent bytes after its 220 to STARTTLS");
        }

        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        try
        {
            tls.AuthenticateAsClient(options);
        }
        catch
        {
            tls.Dispose();
            throw;
        }

        _stream = tls;
    }

    /// <summary>Closes the connection (without QUIT), blocking.</summary>
    public void Close()
    {
        _abortRegistration.Dispose();
        try
        {
            _stream.Dispose();
        }
        catch (IOException)
        {
        }
        catch (SocketException)
        {
        }

        _socket.Dispose();
    }

    /// <summary>Writes bytes in one write.</summary>
    /// <param name="data">The bytes.</param>
    /// <param name="cancellationToken">Stops the write.</param>
    /// <returns>A task that completes when written.</returns>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => _stream.WriteAsync(data, cancellationToken);

    /// <summary>Reads one whole reply (all its lines) and returns its code.</summary>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <returns>The three-digit reply code.</returns>
    public async ValueTask<int> ReadReplyAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            if (TryTakeReply(out var code))
            {
                return code;
            }

            Compact();
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken);
            if (read == 0)
            {
                throw new ConnectionClosedException();
            }

            _end += read;
        }
    }

    /// <summary>Sends a command and reads its reply.</summary>
    /// <param name="command">The command line with its CRLF.</param>
    /// <param name="cancellationToken">Stops the exchange.</param>
    /// <returns>The reply code.</returns>
    public async ValueTask<int> CommandAsync(ReadOnlyMemory<byte> command, CancellationToken cancellationToken)
    {
        await SendAsync(command, cancellationToken);
        return await ReadReplyAsync(cancellationToken);
    }

    /// <summary>Runs the TLS handshake on this connection (after the server's 220 to STARTTLS).</summary>
    /// <param name="options">The client options.</param>
    /// <param name="cancellationToken">Stops the handshake.</param>
    /// <returns>A task that completes when TLS is up.</returns>
    public async Task UpgradeAsync(SslClientAuthenticationOptions options, CancellationToken cancellationToken)
    {
        if (_start != _end)
        {
            throw new InvalidDataException("the server sent bytes after its 220 to STARTTLS");
        }

        var tls = new SslStream(_stream, leaveInnerStreamOpen: false);
        try
        {
            await tls.AuthenticateAsClientAsync(options, cancellationToken);
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }

        _stream = tls;
    }

    /// <summary>Closes the connection (without QUIT).</summary>
    /// <returns>A task that completes when closed.</returns>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await _stream.DisposeAsync();
        }
        catch (IOException)
        {
            // A TLS close_notify to a peer that is already gone.
        }
        catch (SocketException)
        {
        }

        _socket.Dispose();
    }

    private void Compact()
    {
        if (_start > 0)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }

        if (_end == _buffer.Length)
        {
            throw new InvalidDataException("a reply line longer than the read buffer");
        }
    }

    private bool TryTakeReply(out int code)
    {
        while (true)
        {
            var pending = _buffer.AsSpan(_start, _end - _start);
            var lf = pending.IndexOf((byte)'\n');
            if (lf < 0)
            {
                code = 0;
                return false;
            }

            var line = pending[..lf];
            _start += lf + 1;
            if (line.Length >= 4 && line[3] == (byte)'-')
            {
                continue; // not the last line of a multi-line reply
            }

            if (line.Length < 3 || !char.IsAsciiDigit((char)line[0]) || !char.IsAsciiDigit((char)line[1]) || !char.IsAsciiDigit((char)line[2]))
            {
                throw new InvalidDataException("a reply line that does not start with a three-digit code");
            }

            code = ((line[0] - '0') * 100) + ((line[1] - '0') * 10) + (line[2] - '0');
            return true;
        }
    }
}
