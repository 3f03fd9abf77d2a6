using Microsoft.Extensions.Logging;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Protocol;

/// <summary>What every connection of one server shares: settings, extension points and the logger.</summary>
internal sealed class ServerServices
{
    public ServerServices(ProtocolSettings settings, IMessageStore store, IMailboxFilter filter, ISessionHandler? sessionHandler, ILogger logger, Tls.TlsSettings? tls)
    {
        Tls = tls;
        Authentication = settings.Authentication;
        Settings = settings;
        Store = store;
        Filter = filter;
        SessionHandler = sessionHandler;
        Logger = logger;
    }

    public ProtocolSettings Settings { get; }

    public IMessageStore Store { get; }

    public IMailboxFilter Filter { get; }

    public ISessionHandler? SessionHandler { get; }

    public ILogger Logger { get; }

    /// <summary>The AUTH configuration, or <see langword="null"/> when no credential hook is set.</summary>
    public Authentication.SmtpAuthenticationOptions? Authentication { get; }

    /// <summary>The TLS configuration, or <see langword="null"/> when no certificate is configured.</summary>
    public Tls.TlsSettings? Tls { get; }
}
