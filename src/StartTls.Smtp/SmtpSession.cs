using System.Net;

namespace StartTls.Smtp;

/// <summary>
/// The facts of one SMTP connection, shared with every extension point: who connected, to which endpoint,
/// and what they said in HELO/EHLO. A transaction's envelope is separate (<see cref="SmtpEnvelope"/>).
/// </summary>
public sealed class SmtpSession
{
    private Dictionary<object, object?>? _items;

    internal SmtpSession(string id, EndPoint? remoteEndPoint, EndPoint? localEndPoint, DateTimeOffset connectedAt)
    {
        Id = id;
        RemoteEndPoint = remoteEndPoint;
        LocalEndPoint = localEndPoint;
        ConnectedAt = connectedAt;
    }

    /// <summary>The endpoint the client connected to, with its name and TLS policy.</summary>
    public SmtpEndpointInfo Endpoint { get; internal init; } = Protocol.EndpointSettings.Plain.Info;

    /// <summary>A short identifier unique within this process, used in logs and in the Received header.</summary>
    public string Id { get; }

    /// <summary>
    /// The client's address and port: behind a trusted proxy, the client's own as the PROXY protocol header or
    /// XCLIENT gave it (the proxy's is <see cref="ProxyEndPoint"/>).
    /// </summary>
    public EndPoint? RemoteEndPoint { get; internal set; }

    /// <summary>The local address and port the client connected to (behind a PROXY protocol proxy: the proxy's address it connected to).</summary>
    public EndPoint? LocalEndPoint { get; internal set; }

    /// <summary>
    /// The trusted proxy the connection came through, when a PROXY protocol header or XCLIENT replaced
    /// <see cref="RemoteEndPoint"/>; otherwise <see langword="null"/>.
    /// </summary>
    public EndPoint? ProxyEndPoint { get; internal set; }

    /// <summary>The client's host name as a trusted proxy reported it with XCLIENT NAME; <see langword="null"/> otherwise (the server does no DNS lookups).</summary>
    public string? ClientHostName { get; internal set; }

    /// <summary>When the connection was accepted.</summary>
    public DateTimeOffset ConnectedAt { get; }

    /// <summary>The name the client gave in its last HELO or EHLO, or <see langword="null"/> before that.</summary>
    public string? HeloName { get; internal set; }

    /// <summary>True when the client greeted with EHLO (ESMTP) or LHLO (LMTP), false for HELO or before any greeting.</summary>
    public bool IsExtended { get; internal set; }

    /// <summary>
    /// True when the connection arrived on an LMTP endpoint (RFC 2033, <see cref="SmtpEndpointProtocol.Lmtp"/>): the
    /// client greets with LHLO, and the content gets one reply per recipient.
    /// </summary>
    public bool IsLmtp { get; internal init; }

    /// <summary>The TLS facts once the connection is encrypted (STARTTLS or implicit TLS); <see langword="null"/> in plaintext.</summary>
    public SmtpTlsInfo? Tls { get; internal set; }

    /// <summary>True when the connection is encrypted.</summary>
    public bool IsSecure => Tls is not null;

    /// <summary>The identity the client authenticated as with AUTH, or <see langword="null"/>. Forgotten at STARTTLS (RFC 3207 §4.2).</summary>
    public string? AuthenticatedIdentity { get; internal set; }

    /// <summary>The SASL mechanism of the successful AUTH, or <see langword="null"/>.</summary>
    public string? AuthenticationMechanism { get; internal set; }

    /// <summary>True when the client has authenticated.</summary>
    public bool IsAuthenticated => AuthenticatedIdentity is not null;

    /// <summary>The number of messages accepted on this connection so far.</summary>
    public int MessageCount { get; internal set; }

    /// <summary>
    /// The protocol name for a Received header's <c>with</c> clause (RFC 3848): <c>SMTP</c>, <c>ESMTP</c>,
    /// <c>ESMTPS</c> over TLS, <c>ESMTPA</c> or <c>ESMTPSA</c> once authenticated; on an LMTP endpoint <c>LMTP</c>,
    /// <c>LMTPS</c>, <c>LMTPA</c> or <c>LMTPSA</c>.
    /// </summary>
    public string ProtocolName => IsLmtp ? (IsSecure, IsAuthenticated) switch
    {
        (false, false) => "LMTP",
        (true, false) => "LMTPS",
        (false, true) => "LMTPA",
        (true, true) => "LMTPSA",
    }
    : (IsExtended, IsSecure, IsAuthenticated) switch
    {
        (false, _, _) => "SMTP",
        (true, false, false) => "ESMTP",
        (true, true, false) => "ESMTPS",
        (true, false, true) => "ESMTPA",
        (true, true, true) => "ESMTPSA",
    };

    /// <summary>
    /// The services of the current scope when the server was registered with <c>AddSmtpServer</c>: during a mail
    /// transaction (from <c>MAIL</c> to the reply to its content, <c>RSET</c> or the close) the transaction's scope,
    /// else the session's; <see langword="null"/> for a server created with instances (its constructor), and once the
    /// session has closed.
    /// For code the container does not create per session, such as an <c>IPasswordAuthenticator</c> or a singleton
    /// filter, that needs a scoped service (a <c>DbContext</c>). Do not keep it beyond the call it was read in.
    /// </summary>
    public IServiceProvider? Services { get; internal set; }

    /// <summary>Application state for this connection; the server never reads it.</summary>
    public IDictionary<object, object?> Items => _items ??= [];

    /// <summary>
    /// The mail transaction in progress, from <c>MAIL</c> until it ends (<see cref="ITransactionEndHook"/>);
    /// <see langword="null"/> outside one.
    /// </summary>
    public SmtpTransaction? Transaction { get; internal set; }

    /// <summary>
    /// Creates the facts of a session for a unit test of a filter, a store or a hook, without a connection. The
    /// engine's state (TLS, XCLIENT, the message count) stays as a new session's.
    /// </summary>
    /// <param name="heloName">The name given in EHLO/HELO, or <see langword="null"/> for a session not yet greeted.</param>
    /// <param name="isExtended">True for EHLO, false for HELO.</param>
    /// <param name="authenticatedIdentity">The identity the client authenticated as, or <see langword="null"/>.</param>
    /// <param name="remoteEndPoint">The client's address, or <see langword="null"/>.</param>
    /// <param name="services">The services hooks find in <see cref="Services"/>, or <see langword="null"/>.</param>
    /// <returns>The session, connected now, with the id <c>test</c>.</returns>
    public static SmtpSession CreateForTesting(string? heloName = "client.test", bool isExtended = true, string? authenticatedIdentity = null,
        EndPoint? remoteEndPoint = null, IServiceProvider? services = null)
        => new("test", remoteEndPoint, null, DateTimeOffset.UtcNow)
        {
            HeloName = heloName,
            IsExtended = heloName is not null && isExtended,
            AuthenticatedIdentity = authenticatedIdentity,
            AuthenticationMechanism = authenticatedIdentity is null ? null : "PLAIN",
            Services = services,
        };
}
