using Microsoft.Extensions.DependencyInjection;
using StartTls.Smtp.Protocol;

namespace StartTls.Smtp.Hosting;

/// <summary>
/// The extension points of a server registered with <c>AddSmtpServer</c>: a dependency-injection scope per session
/// (<see cref="ISessionHandler"/>) and one per mail transaction (<see cref="IMailboxFilter"/>,
/// <see cref="Storage.IMessageStore"/>), so that scoped services (a <c>DbContext</c>) work in each.
/// </summary>
/// <remarks>
/// Microsoft.Extensions.DependencyInjection has no nested scopes: a transaction's scope is a new scope of the root
/// <see cref="IServiceScopeFactory"/>, a sibling of its session's, not a child. A scoped service is therefore one
/// instance per session in the session handler and another per transaction in the filter and the store; state the
/// two must share goes through <see cref="SmtpSession.Items"/>. Singletons are the same everywhere: those given here
/// were resolved once, when the server was created, and are not looked up again.
/// </remarks>
internal sealed class ServiceScopeExtensions(IServiceScopeFactory scopes, SharedExtensions shared) : IExtensionScopes
{
    public ISessionExtensions OpenSession() => new Session(scopes, shared);

    private sealed class Session(IServiceScopeFactory scopes, SharedExtensions shared) : ISessionExtensions
    {
        private readonly AsyncServiceScope _scope = scopes.CreateAsyncScope();

        public IServiceProvider? Services => _scope.ServiceProvider;

        public ISessionHandler? GetSessionHandler()
            => shared.HandlerIsShared ? shared.Handler : _scope.ServiceProvider.GetService<ISessionHandler>();

        public ITransactionExtensions BeginTransaction() => new Transaction(scopes, shared);

        public ValueTask DisposeAsync() => _scope.DisposeAsync();
    }

    private sealed class Transaction(IServiceScopeFactory scopes, SharedExtensions shared) : ITransactionExtensions
    {
        private readonly AsyncServiceScope _scope = scopes.CreateAsyncScope();
        private IMailboxFilter? _filter = shared.Filter;
        private Storage.IMessageStore? _store = shared.Store;

        public IServiceProvider? Services => _scope.ServiceProvider;

        // Resolved once per transaction: a transient filter is the same object for MAIL and every RCPT.
        public IMailboxFilter GetMailboxFilter()
            => _filter ??= _scope.ServiceProvider.GetService<IMailboxFilter>() ?? AcceptAllMailboxFilter.Instance;

        public Storage.IMessageStore GetMessageStore()
            => _store ??= _scope.ServiceProvider.GetRequiredService<Storage.IMessageStore>();

        public ValueTask DisposeAsync() => _scope.DisposeAsync();
    }
}
