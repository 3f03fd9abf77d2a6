namespace StartTls.Smtp.Authentication;

/// <summary>What a SASL mechanism may use: the session, the server's name, the TLS channel binding and the credential hooks.</summary>
public sealed class SaslContext
{
    private readonly Func<string, byte[]?>? _channelBinding;

    internal SaslContext(SmtpSession session, string serverName, SmtpAuthenticationOptions options, Func<string, byte[]?>? channelBinding)
    {
        Session = session;
        ServerName = serverName;
        Options = options;
        _channelBinding = channelBinding;
    }

    /// <summary>The connection's facts.</summary>
    public SmtpSession Session { get; }

    /// <summary>The server's host name (CRAM-MD5 puts it in its challenge).</summary>
    public string ServerName { get; }

    /// <summary>The authentication options with the credential hooks.</summary>
    public SmtpAuthenticationOptions Options { get; }

    /// <summary>
    /// The channel binding data of the TLS connection for <paramref name="type"/> (RFC 5929 <c>tls-server-end-point</c>),
    /// or <see langword="null"/> when not under TLS or the type is not supported.
    /// </summary>
    /// <param name="type">The channel binding type name.</param>
    /// <returns>The binding data, or <see langword="null"/>.</returns>
    public byte[]? GetChannelBinding(string type) => _channelBinding?.Invoke(type);
}
