namespace StartTls.Smtp;

/// <summary>
/// Every limit, timeout and switch of the server, with safe defaults. Validated when the server starts
/// (an <c>IValidateOptions</c> that the server and <c>AddSmtpServer</c> run) and bindable from configuration. A
/// server copies them when it is built: later changes to this object do not reach it.
/// </summary>
public sealed class SmtpServerOptions
{
    /// <summary>The addresses to listen on. Default: <c>127.0.0.1:2525</c> when empty at start.</summary>
    public IList<SmtpEndpointOptions> Endpoints { get; } = [];

    /// <summary>
    /// Whether <see cref="SmtpServer.StartAsync"/> opens the server's own listening sockets (the <see cref="Endpoints"/>,
    /// or <c>127.0.0.1:2525</c> when there are none). False serves only the connections handed to
    /// <see cref="SmtpServer.ServeAsync(SmtpConnectionContext, CancellationToken)"/>, for example from Kestrel endpoints
    /// (the StartTls.Smtp.AspNetCore package's <c>UseSmtp</c> and <c>UseKestrelOnly</c>); <see cref="Endpoints"/> must
    /// then be empty. Default true.
    /// </summary>
    public bool ListenOnOwnSockets { get; set; } = true;

    /// <summary>TLS: certificates (files, SNI map or a selector in code), versions, handshake timeout, client certificates.</summary>
    public Tls.SmtpTlsOptions Tls { get; } = new();

    /// <summary>SMTP AUTH (RFC 4954): credential hooks that enable mechanisms, and the policy.</summary>
    public Authentication.SmtpAuthenticationOptions Authentication { get; } = new();

    /// <summary>The PROXY protocol (versions 1 and 2): which load balancers may tell the server the real client's address.</summary>
    public ProxyProtocolOptions ProxyProtocol { get; } = new();

    /// <summary>Postfix's XCLIENT command: which SMTP proxies may tell the server the original client's attributes.</summary>
    public XclientOptions Xclient { get; } = new();

    /// <summary>The host name the server announces in its greeting, EHLO reply and Received headers. Default: the machine name.</summary>
    public string? ServerName { get; set; }

    /// <summary>The largest message accepted, in octets, advertised as <c>SIZE</c> (RFC 1870) and enforced while streaming. Default 25 MiB.</summary>
    public long MaxMessageSize { get; set; } = 25 * 1024 * 1024;

    /// <summary>
    /// The longest command line, in octets including CRLF. RFC 5321 §4.5.3.1.4 sets 512 and lets extensions add to it
    /// (RFC 4954 adds 500 for <c>AUTH=</c>). Longer lines get <c>500 5.5.2</c> and are discarded up to their CRLF. Default 1024; at least 512.
    /// </summary>
    public int MaxCommandLineLength { get; set; } = 1024;

    /// <summary>The longest line of message content, in octets including CRLF (RFC 5321 §4.5.3.1.6). Default 1000; at least 1000.</summary>
    public int MaxTextLineLength { get; set; } = 1000;

    /// <summary>Recipients accepted per message; more get <c>452 4.5.3</c>. Default 100, the minimum RFC 5321 §4.5.3.1.8 asks a server to buffer.</summary>
    public int MaxRecipients { get; set; } = 100;

    /// <summary>Error replies a connection may earn before the server answers <c>421 4.7.0</c> and closes. Default 20.</summary>
    public int MaxBadCommands { get; set; } = 20;

    /// <summary>Connections served at once; further ones get <c>421 4.7.0</c> and are closed. Default 1000.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>Connections served at once from one remote IP address; further ones get <c>421 4.7.0</c>. Default 20; 0 for no limit.</summary>
    public int MaxConnectionsPerIp { get; set; } = 20;

    /// <summary>
    /// How long the server waits before its greeting, watching for early talkers: a client that sends anything before
    /// the greeting gets <c>554 5.5.0</c> and is closed. Default zero (greet at once, no check).
    /// </summary>
    public TimeSpan GreetingDelay { get; set; } = TimeSpan.Zero;

    /// <summary>How long the client may take to send its first command after the greeting. Default 1 minute.</summary>
    public TimeSpan GreetingTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the client may take to send a whole command line, however it trickles in (RFC 5321 §4.5.3.2.7). Default 5 minutes.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long the server waits for the next block of message content (RFC 5321 §4.5.3.2.6). Default 3 minutes.</summary>
    public TimeSpan DataBlockTimeout { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>The most time one message's content may take from the 354 reply to its final dot. Default 10 minutes.</summary>
    public TimeSpan DataTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The share of <see cref="MaxConnections"/> above which the server is under stress, as Postfix's stress mode:
    /// new and waiting clients then get <see cref="StressTimeout"/> instead of the greeting and command timeouts, so
    /// that slow or idle clients cannot hold every slot for minutes. It ends when the load drops below the share.
    /// Default 0.8; 0 turns stress mode off.
    /// </summary>
    public double StressThreshold { get; set; } = 0.8;

    /// <summary>The greeting and command timeout while the server is under stress (<see cref="StressThreshold"/>). Default 10 seconds.</summary>
    public TimeSpan StressTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a graceful shutdown lets messages being received finish before connections are aborted. Default 30 seconds.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>What to do with a bare CR or bare LF in message content. Default <see cref="BareLineEndingHandling.Reject"/>.</summary>
    public BareLineEndingHandling BareLineEndings { get; set; } = BareLineEndingHandling.Reject;

    /// <summary>Advertise and accept SMTPUTF8 (RFC 6531). Default true.</summary>
    public bool EnableSmtpUtf8 { get; set; } = true;

    /// <summary>Advertise and accept 8BITMIME (RFC 6152). Default true.</summary>
    public bool Enable8BitMime { get; set; } = true;

    /// <summary>Advertise PIPELINING (RFC 2920). Pipelined groups are handled correctly either way. Default true.</summary>
    public bool EnablePipelining { get; set; } = true;

    /// <summary>
    /// Advertise DSN (RFC 3461) and accept its parameters: <c>RET</c> and <c>ENVID</c> on MAIL, <c>NOTIFY</c> and
    /// <c>ORCPT</c> on RCPT, validated and exposed on <see cref="SmtpEnvelope"/> and <see cref="SmtpRecipient"/>. The
    /// message store then owns the promise: relay them onwards, or send the notifications asked for. Default true.
    /// </summary>
    public bool EnableDsn { get; set; } = true;

    /// <summary>
    /// Advertise REQUIRETLS (RFC 8689) on TLS sessions and accept the MAIL parameter there, exposed as
    /// <see cref="SmtpEnvelope.RequireTls"/>; a store that relays must then use TLS onwards or refuse. Default true.
    /// </summary>
    public bool EnableRequireTls { get; set; } = true;

    /// <summary>
    /// Advertise and accept CHUNKING and BINARYMIME (RFC 3030): the BDAT command and <c>BODY=BINARYMIME</c>. When
    /// false, BDAT gets <c>502 5.5.1</c> and <c>BODY=BINARYMIME</c> gets <c>555 5.5.4</c>. Default true.
    /// </summary>
    public bool EnableChunking { get; set; } = true;
}
