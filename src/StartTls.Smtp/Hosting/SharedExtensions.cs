namespace StartTls.Smtp.Hosting;

/// <summary>
/// The extension points registered as singletons, resolved once when the server is created (so a broken registration
/// fails the host's start, not the first message); <see langword="null"/> for those that are scoped or transient.
/// </summary>
/// <param name="Store">The shared message store, or <see langword="null"/>.</param>
/// <param name="Filter">The shared mailbox filter, or <see langword="null"/>.</param>
/// <param name="Handler">The shared session handler (<see langword="null"/> also when none is registered).</param>
/// <param name="HandlerIsShared">True when <paramref name="Handler"/> is the answer for every session.</param>
internal sealed record SharedExtensions(Storage.IMessageStore? Store, IMailboxFilter? Filter, ISessionHandler? Handler, bool HandlerIsShared);
