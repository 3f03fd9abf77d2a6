using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// Extension points given as instances (the <see cref="SmtpServer"/> constructor): every session and transaction
/// shares them, and opening or closing one allocates nothing and does nothing.
/// </summary>
internal sealed class FixedExtensions(IMessageStore store, IMailboxFilter filter, ISessionHandler? sessionHandler)
    : IExtensionScopes, ISessionExtensions, ITransactionExtensions
{
    public IServiceProvider? Services => null;

    public ISessionExtensions OpenSession() => this;

    public ISessionHandler? GetSessionHandler() => sessionHandler;

    public ITransactionExtensions BeginTransaction() => this;

    public IMailboxFilter GetMailboxFilter() => filter;

    public IMessageStore GetMessageStore() => store;

    public ValueTask DisposeAsync() => default;
}
