namespace StartTls.Smtp.Protocol;

/// <summary>The extension points of one session, alive from the connection's start to its close.</summary>
internal interface ISessionExtensions : IAsyncDisposable
{
    /// <summary>The session's services (its dependency-injection scope), or <see langword="null"/> without a container.</summary>
    IServiceProvider? Services { get; }

    /// <summary>The session handler, or <see langword="null"/> when there is none. May throw when it cannot be created.</summary>
    /// <returns>The handler of this session.</returns>
    ISessionHandler? GetSessionHandler();

    /// <summary>Opens the extension points of a mail transaction (from <c>MAIL</c> to its end); the caller disposes them.</summary>
    /// <returns>The transaction's extension points.</returns>
    ITransactionExtensions BeginTransaction();
}
