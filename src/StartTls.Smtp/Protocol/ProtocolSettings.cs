namespace StartTls.Smtp.Protocol;

/// <summary>The validated, immutable settings one server's connections share.</summary>
internal sealed class ProtocolSettings
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
        BareLineEndings = options.BareLineEndings;
        EnableSmtpUtf8 = options.EnableSmtpUtf8;
        Enable8BitMime = options.Enable8BitMime;
        EnablePipelining = options.EnablePipelining;
        Greeting = new SmtpReply(220, null, serverName + " ESMTP ready");
        EhloReply = BuildEhloReply(offerStartTls: false);
        EhloReplyWithStartTls = BuildEhloReply(offerStartTls: true);
        HeloReply = new SmtpReply(250, null, serverName);
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
    public BareLineEndingHandling BareLineEndings { get; }
    public bool EnableSmtpUtf8 { get; }
    public bool Enable8BitMime { get; }
    public bool EnablePipelining { get; }

    /// <summary>The 220 greeting (RFC 2034 exempts it from enhanced codes; no version is disclosed).</summary>
    public SmtpReply Greeting { get; }

    /// <summary>The EHLO reply with the capability list, built once: over TLS, or where TLS is not offered.</summary>
    public SmtpReply EhloReply { get; }

    /// <summary>The EHLO reply before TLS on an endpoint that offers STARTTLS.</summary>
    public SmtpReply EhloReplyWithStartTls { get; }

    /// <summary>The HELO reply.</summary>
    public SmtpReply HeloReply { get; }

    private SmtpReply BuildEhloReply(bool offerStartTls)
    {
        var lines = new List<string> { ServerName };
        if (EnablePipelining)
        {
            lines.Add("PIPELINING");
        }

        lines.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"SIZE {MaxMessageSize}"));
        if (Enable8BitMime)
        {
            lines.Add("8BITMIME");
        }

        if (EnableSmtpUtf8)
        {
            lines.Add("SMTPUTF8");
        }

        if (offerStartTls)
        {
            lines.Add("STARTTLS");
        }

        lines.Add("ENHANCEDSTATUSCODES");
        lines.Add("HELP");
        return new SmtpReply(250, null, string.Join('\n', lines));
    }
}
