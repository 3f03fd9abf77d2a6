using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// The extension points of one mail transaction, alive from <c>MAIL</c> until the reply to its content, <c>RSET</c>,
/// a new greeting or the close. Each is created at its first use, so a transaction that never reaches <c>DATA</c>
/// never creates a store.
/// </summary>
internal interface ITransactionExtensions : IAsyncDisposable
{
    /// <summary>The transaction's services (its dependency-injection scope), or <see langword="null"/> without a container.</summary>
    IServiceProvider? Services { get; }

    /// <summary>The mailbox filter of this transaction. May throw when it cannot be created.</summary>
    /// <returns>The filter.</returns>
    IMailboxFilter GetMailboxFilter();

    /// <summary>The message store of this transaction. May throw when it cannot be created.</summary>
    /// <returns>The store.</returns>
    IMessageStore GetMessageStore();
}
