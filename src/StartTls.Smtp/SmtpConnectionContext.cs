using System.IO.Pipelines;
using System.Net;

namespace StartTls.Smtp;

/// <summary>
/// What a transport knows about one connection it hands to <see cref="SmtpServer.ServeAsync(SmtpConnectionContext, CancellationToken)"/>:
/// its pipes, its addresses, the endpoint it arrived on and how to cut it off. The server's own socket listener is one
/// transport; Kestrel, a test pipe or a custom listener are others, and all get the same limits, metrics and policy.
/// </summary>
/// <example>
/// <code>
/// await server.ServeAsync(new SmtpConnectionContext(pipe)
/// {
///     RemoteEndPoint = remote,
///     LocalEndPoint = local,
///     Endpoint = new SmtpEndpointOptions { Name = "submission", RequireTls = true },
///     Abort = () => socket.Dispose(),
/// }, cancellationToken);
/// </code>
/// </example>
public sealed class SmtpConnectionContext
{
    /// <summary>Creates the context of a connection with the given pipes.</summary>
    /// <param name="transport">The connection's input and output; the caller completes them after the session.</param>
    public SmtpConnectionContext(IDuplexPipe transport)
    {
        ArgumentNullException.ThrowIfNull(transport);
        Transport = transport;
    }

    /// <summary>The connection's input and output.</summary>
    public IDuplexPipe Transport { get; }

    /// <summary>The client's address, if known: it is what per-address limits count and what logs and trace headers show.</summary>
    public EndPoint? RemoteEndPoint { get; init; }

    /// <summary>The local address the client connected to, if known.</summary>
    public EndPoint? LocalEndPoint { get; init; }

    /// <summary>
    /// The endpoint's policy: implicit TLS, RequireTls and its name in logs and metrics (its <c>Address</c> is not used
    /// here: the transport has already accepted the connection). Default: a plaintext endpoint named <c>pipe</c>
    /// that offers STARTTLS when certificates are configured.
    /// </summary>
    public SmtpEndpointOptions? Endpoint { get; init; }

    /// <summary>
    /// Cuts the connection off at once (Kestrel's <c>ConnectionContext.Abort</c> is the model). The server calls it
    /// when a graceful stop has run out of time; optional.
    /// </summary>
    public Action? Abort { get; init; }
}
