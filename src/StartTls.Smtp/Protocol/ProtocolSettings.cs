namespace StartTls.Smtp.Protocol;

/// <summary>The validated, immutable settings one server's connections share.</summary>
internal sealed partial class ProtocolSettings
{
    public ProtocolSettings(SmtpServerOptions options, string serverName)
    {
        ServerName = serverName;
        MaxMessageSize = options.MaxMessageSize;
        MaxCommandLineLength = options.MaxCommandLineLength;
        MaxTextLineLength = options.MaxTextLineLength;
        MaxRecipients = options.MaxRecipients;
        MaxBadCommands = options.MaxBadCommands;
        GreetingDelay = options.GreetingDelay;
        GreetingTimeout = options.GreetingTimeout;
        CommandTimeout = options.CommandTimeout;
        DataBlockTimeout = options.DataBlockTimeout;
        DataTimeout = options.DataTimeout;
        StressTimeout = options.StressThreshold > 0 ? options.StressTimeout : TimeSpan.MaxValue;
        BareLineEndings = options.BareLineEndings;
        EnableSmtpUtf8 = options.EnableSmtpUtf8;
        Enable8BitMime = options.Enable8BitMime;
        EnablePipelining = options.EnablePipelining;
        EnableDsn = options.EnableDsn;
        EnableRequireTls = options.EnableRequireTls;
        EnableChunking = options.EnableChunking;
        ProxySources = Transport.TrustedNetworks.Parse(options.ProxyProtocol.TrustedSources);
        ProxyHeaderTimeout = options.ProxyProtocol.HeaderTimeout;
        XclientSources = Transport.TrustedNetworks.Parse(options.Xclient.TrustedSources);
        Authentication = options.Authentication.IsConfigured ? options.Authentication.Snapshot() : null;
        Greeting = new SmtpReply(220, null, serverName + " ESMTP ready");
        EhloReply = BuildEhloReply(offerStartTls: false, secure: false, authMechanisms: null, offerXclient: false, MaxMessageSize);
        EhloReplyWithStartTls = BuildEhloReply(offerStartTls: true, secure: false, authMechanisms: null, offerXclient: false, MaxMessageSize);
        EhloReplySecure = BuildEhloReply(offerStartTls: false, secure: true, authMechanisms: null, offerXclient: false, MaxMessageSize);
        HeloReply = new SmtpReply(250, null, serverName);
        LmtpGreeting = new SmtpReply(220, null, serverName + " LMTP ready");
    }

    public string ServerName { get; }
    public long MaxMessageSize { get; }
    public int MaxCommandLineLength { get; }
    public int MaxTextLineLength { get; }
    public int MaxRecipients { get; }
    public int MaxBadCommands { get; }
    public TimeSpan GreetingDelay { get; }
    public TimeSpan GreetingTimeout { get; }
    public TimeSpan CommandTimeout { get; }
    public TimeSpan DataBlockTimeout { get; }
    public TimeSpan DataTimeout { get; }

    /// <summary>The greeting and command timeout under stress; <see cref="TimeSpan.MaxValue"/> when stress mode is off.</summary>
    public TimeSpan StressTimeout { get; }
    public BareLineEndingHandling BareLineEndings { get; }
    public bool EnableSmtpUtf8 { get; }
    public bool Enable8BitMime { get; }
    public bool EnablePipelining { get; }
    public bool EnableDsn { get; }

    /// <summary>Whether REQUIRETLS (RFC 8689) is offered; it is advertised and accepted only on a TLS session.</summary>
    public bool EnableRequireTls { get; }

    /// <summary>CHUNKING and BINARYMIME (RFC 3030) are offered: BDAT is framed and <c>BODY=BINARYMIME</c> accepted.</summary>
    public bool EnableChunking { get; }

    /// <summary>The sources whose PROXY protocol headers are believed (and required); empty when the PROXY protocol is off.</summary>
    public Transport.TrustedNetworks ProxySources { get; }

    /// <summary>How long a trusted source may take to send its PROXY header.</summary>
    public TimeSpan ProxyHeaderTimeout { get; }

    /// <summary>The clients allowed to send XCLIENT; empty when XCLIENT is off.</summary>
    public Transport.TrustedNetworks XclientSources { get; }

    /// <summary>The AUTH options when any credential hook is set; otherwise <see langword="null"/>.</summary>
    public Authentication.SmtpAuthenticationOptions? Authentication { get; }

    /// <summary>The 220 greeting (RFC 2034 exempts it from enhanced codes; no version is disclosed).</summary>
    public SmtpReply Greeting { get; }

    /// <summary>The EHLO reply with the capability list, built once: in clear where TLS is not offered.</summary>
    public SmtpReply EhloReply { get; }

    /// <summary>The EHLO reply over TLS (with REQUIRETLS when enabled).</summary>
    public SmtpReply EhloReplySecure { get; }

    /// <summary>The EHLO reply before TLS on an endpoint that offers STARTTLS.</summary>
    public SmtpReply EhloReplyWithStartTls { get; }

    /// <summary>The HELO reply.</summary>
    public SmtpReply HeloReply { get; }

    /// <summary>The EHLO reply for a capability set, built once per distinct set and then reused.</summary>
    /// <remarks>
    /// The key is the capability set, including the endpoint's SIZE (<paramref name="maxMessageSize"/>, 0 for the
    /// server's); the mechanism string is the session's cached one, so a repeated EHLO allocates nothing.
    /// </remarks>
    public SmtpReply GetEhloReply(bool offerStartTls, bool secure, string? authMechanisms, bool offerXclient = false, long maxMessageSize = 0)
    {
        if (maxMessageSize == MaxMessageSize)
        {
            maxMessageSize = 0;
        }

        return authMechanisms is null && !offerXclient && maxMessageSize == 0
            ? secure ? EhloReplySecure : offerStartTls ? EhloReplyWithStartTls : EhloReply
            : _ehloReplies.GetOrAdd((offerStartTls, secure, authMechanisms ?? string.Empty, offerXclient, maxMessageSize), static (key, self) => self.BuildEhloReply(key.Item1, key.Item2, key.Item3.Length == 0 ? null : key.Item3, key.Item4, key.Item5 == 0 ? self.MaxMessageSize : key.Item5), this);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(bool, bool, string, bool, long), SmtpReply> _ehloReplies = new();

    /// <summary>The XCLIENT capability line: the attributes this server takes (Postfix's XCLIENT_README).</summary>
    public const string XclientCapability = "XCLIENT NAME ADDR PORT PROTO HELO LOGIN";

    private SmtpReply BuildEhloReply(bool offerStartTls, bool secure, string? authMechanisms, bool offerXclient, long maxMessageSize, bool lmtp = false)
    {
        var lines = new List<string> { ServerName };

        // RFC 2033 §5: an LMTP server must offer PIPELINING (and ENHANCEDSTATUSCODES, always listed).
        if (EnablePipelining || lmtp)
        {
            lines.Add("PIPELINING");
        }

        lines.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"SIZE {maxMessageSize}"));
        if (Enable8BitMime)
        {
            lines.Add("8BITMIME");
        }

        if (EnableSmtpUtf8)
        {
            lines.Add("SMTPUTF8");
        }

        if (EnableDsn)
        {
            lines.Add("DSN");
        }

        if (EnableChunking)
        {
            lines.Add("CHUNKING");
            lines.Add("BINARYMIME");
        }

        if (offerStartTls)
        {
            lines.Add("STARTTLS");
        }

        if (secure && EnableRequireTls)
        {
            lines.Add("REQUIRETLS");
        }

        if (authMechanisms is not null)
        {
            lines.Add("AUTH " + authMechanisms);
        }

        if (offerXclient)
        {
            lines.Add(XclientCapability);
        }

        lines.Add("ENHANCEDSTATUSCODES");

        // RFC 9422: the limits a client can plan by; RCPTMAX is MaxRecipients, which RCPT enforces with 452 4.5.3.
        lines.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"LIMITS RCPTMAX={MaxRecipients}"));
        lines.Add("HELP");
        return new SmtpReply(250, null, string.Join('\n', lines));
    }
}
