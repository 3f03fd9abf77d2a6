using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// A client on the other end of in-memory pipes, served by <see cref="SmtpServer.ServeAsync(SmtpConnectionContext, CancellationToken)"/>:
/// each send is one explicit flush, so split arrivals are exact without timing, and the session is the test's to
/// cancel. When the session ends, the server's side of the output is completed, which the client sees as a close.
/// </summary>
public sealed class PipeClient : IAsyncDisposable
{
    private readonly Pipe _toServer = new(new PipeOptions(useSynchronizationContext: false));
    private readonly Pipe _toClient = new(new PipeOptions(useSynchronizationContext: false));
    private readonly StringBuilder _pending = new();
    private bool _closed;

    private PipeClient()
    {
    }

    /// <summary>The session's task: it completes when the server is done with the connection.</summary>
    public Task Session { get; private set; } = Task.CompletedTask;

    /// <summary>True once the transport's abort callback was called.</summary>
    public bool Aborted { get; private set; }

    /// <summary>Starts a session on <paramref name="server"/>; the endpoint and addresses are the transport's.</summary>
    public static PipeClient Start(SmtpServer server, SmtpEndpointOptions? endpoint = null, IPEndPoint? remote = null, CancellationToken cancellationToken = default)
    {
        var client = new PipeClient();
        var context = new SmtpConnectionContext(new Transport(client._toServer.Reader, client._toClient.Writer))
        {
            RemoteEndPoint = remote ?? new IPEndPoint(IPAddress.Loopback, 40000),
            LocalEndPoint = new IPEndPoint(IPAddress.Loopback, 25),
            Endpoint = endpoint,
            Abort = () => client.Aborted = true,
        };
        client.Session = RunAsync(server, context, client, cancellationToken);
        return client;
    }

    private static async Task RunAsync(SmtpServer server, SmtpConnectionContext context, PipeClient client, CancellationToken cancellationToken)
    {
        try
        {
            await server.ServeAsync(context, cancellationToken);
        }
        finally
        {
            // What a transport does after the session: close its side, which the client reads as the end.
            await client._toClient.Writer.CompleteAsync();
        }
    }

    /// <summary>Sends <paramref name="text"/> as one flush.</summary>
    public async Task SendAsync(string text)
    {
        await _toServer.Writer.WriteAsync(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Sends a command and reads its (possibly multi-line) reply.</summary>
    public async Task<string> CommandAsync(string command, TimeSpan? timeout = null)
    {
        await SendAsync(command + "\r\n");
        return await ReadReplyAsync(timeout);
    }

    /// <summary>Reads one line without its CRLF, or null once the server closed.</summary>
    public async Task<string?> ReadLineAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var text = _pending.ToString();
            var end = text.IndexOf("\r\n", StringComparison.Ordinal);
            if (end >= 0)
            {
                _pending.Remove(0, end + 2);
                return text[..end];
            }

            if (_closed)
            {
                return null;
            }

            ReadResult result;
            try
            {
                result = await _toClient.Reader.ReadAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException("No line from the server in time; have: " + text);
            }

            foreach (var segment in result.Buffer)
            {
                _pending.Append(Encoding.UTF8.GetString(segment.Span));
            }

            _toClient.Reader.AdvanceTo(result.Buffer.End);
            _closed = result.IsCompleted;
        }
    }

    /// <summary>Reads a whole reply (every line up to the one with a space after the code), joined with CRLF.</summary>
    public async Task<string> ReadReplyAsync(TimeSpan? timeout = null)
    {
        var lines = new List<string>();
        while (true)
        {
            var line = await ReadLineAsync(timeout) ?? throw new InvalidOperationException("Closed before a reply; got: " + string.Join("|", lines));
            lines.Add(line);
            if (line.Length < 4 || line[3] != '-')
            {
                return string.Join("\r\n", lines);
            }
        }
    }

    /// <summary>Reads until the server closes; returns what came, lines ended with CRLF.</summary>
    public async Task<string> ReadToEndAsync(TimeSpan? timeout = null)
    {
        var text = new StringBuilder();
        while (await ReadLineAsync(timeout) is { } line)
        {
            text.Append(line).Append("\r\n");
        }

        return text.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        await _toServer.Writer.CompleteAsync();
        try
        {
            await Session.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }
    }

    private sealed class Transport(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
