namespace StartTls.Smtp.Protocol;

/// <summary>What a connection was waiting for when its deadline passed.</summary>
internal enum TimeoutPhase : byte
{
    /// <summary>The greeting delay, or the first command after the greeting.</summary>
    Greeting,

    /// <summary>A command line (or a TLS handshake).</summary>
    Command,

    /// <summary>Message content.</summary>
    Content,

    /// <summary>A PROXY protocol header from a trusted proxy, before anything else.</summary>
    ProxyHeader,
}

/// <summary>Names of <see cref="TimeoutPhase"/> values.</summary>
internal static class TimeoutPhaseNames
{
    /// <summary>For the log line "Timeout while waiting for …".</summary>
    public static string Describe(this TimeoutPhase phase) => phase switch
    {
        TimeoutPhase.Greeting => "the first command",
        TimeoutPhase.Command => "a command",
        TimeoutPhase.ProxyHeader => "a PROXY protocol header",
        _ => "message content",
    };

    /// <summary>The <c>phase</c> tag of the timeout metric.</summary>
    public static string MetricName(this TimeoutPhase phase) => phase switch
    {
        TimeoutPhase.Greeting => "greeting",
        TimeoutPhase.Command => "command",
        TimeoutPhase.ProxyHeader => "proxy_header",
        _ => "content",
    };
}
