using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Hosting;

/// <summary>Chooses the server's message store, mailbox filter and session handler.</summary>
/// <remarks>
/// The container creates the generic type arguments through their public constructors; the annotations tell the trimmer
/// and the Native AOT compiler to keep those constructors.
/// </remarks>
public static class SmtpServerBuilderExtensions
{
    /// <summary>Uses <typeparamref name="TStore"/>, resolved from the container as a singleton, as the message store.</summary>
    /// <typeparam name="TStore">The store type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ISmtpServerBuilder UseMessageStore<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TStore>(this ISmtpServerBuilder builder)
        where TStore : class, IMessageStore
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TStore>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IMessageStore>(static sp => sp.GetRequiredService<TStore>()));
        return builder;
    }

    /// <summary>
    /// Uses <typeparamref name="TStore"/>, registered with <paramref name="lifetime"/>, as the message store. A scoped
    /// (or transient) store is resolved in each mail transaction's own scope, so it may take a scoped <c>DbContext</c>.
    /// </summary>
    /// <typeparam name="TStore">The store type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="lifetime">The store's lifetime; <see cref="ServiceLifetime.Scoped"/> means one per mail transaction.</param>
    /// <returns>The builder.</returns>
    public static ISmtpServerBuilder UseMessageStore<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TStore>(this ISmtpServerBuilder builder, ServiceLifetime lifetime)
        where TStore : class, IMessageStore
        => Use<IMessageStore, TStore>(builder, lifetime);

    /// <summary>Uses <paramref name="store"/> as the message store.</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="store">The store instance.</param>
    /// <returns>The builder.</returns>
    public static ISmtpServerBuilder UseMessageStore(this ISmtpServerBuilder builder, IMessageStore store)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(store);
        builder.Services.Replace(ServiceDescriptor.Singleton(store));
        return builder;
    }

    /// <summary>Uses <typeparamref name="TFilter"/>, resolved as a singleton, to accept or refuse senders and recipients.</summary>
    /// <typeparam name="TFilter">The filter type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ISmtpServerBuilder UseMailboxFilter<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TFilter>(this ISmtpServerBuilder builder)
        where TFilter : class, IMailboxFilter
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<TFilter>();
        builder.Services.Replace(ServiceDescriptor.Singleton<IMailboxFilter>(static sp => sp.GetRequiredService<TFilter>()));
        return builder;
    }

    /// <summary>
    /// Uses <typeparamref name="TFilter"/>, registered with <paramref name="lifetime"/>, to accept or refuse senders and
    /// recipients. A scoped (or transient) filter is resolved once in each mail transaction's own scope.
    /// </summary>
    /// <typeparam name="TFilter">The filter type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="lifetime">The filter's lifetime; <see cref="ServiceLifetime.Scoped"/> means one per mail transaction.</param>
    /// <returns>The builder.</returns>
    public static ISmtpServerBuilder UseMailboxFilter<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TFilter>(this ISmtpServerBuilder builder, ServiceLifetime lifetime)
        where TFilter : class, IMailboxFilter
        => Use<IMailboxFilter, TFilter>(builder, lifetime);

    /// <summary>Uses <typeparamref name="THandler"/>, resolved as a singleton, for the connect and close hooks.</summary>
    /// <typeparam name="THandler">The handler type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ISmtpServerBuilder UseSessionHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(this ISmtpServerBuilder builder)
        where THandler : class, ISessionHandler
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAddSingleton<THandler>();
        builder.Services.Replace(ServiceDescriptor.Singleton<ISessionHandler>(static sp => sp.GetRequiredService<THandler>()));
        return builder;
    }

    /// <summary>
    /// Uses <typeparamref name="THandler"/>, registered with <paramref name="lifetime"/>, for the connect and close
    /// hooks. A scoped (or transient) handler is resolved once in each session's scope: the same object at connect and close.
    /// </summary>
    /// <typeparam name="THandler">The handler type.</typeparam>
    /// <param name="builder">The builder.</param>
    /// <param name="lifetime">The handler's lifetime; <see cref="ServiceLifetime.Scoped"/> means one per session.</param>
    /// <returns>The builder.</returns>
    public static ISmtpServerBuilder UseSessionHandler<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] THandler>(this ISmtpServerBuilder builder, ServiceLifetime lifetime)
        where THandler : class, ISessionHandler
        => Use<ISessionHandler, THandler>(builder, lifetime);

    private static ISmtpServerBuilder Use<TService, [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] TImplementation>(ISmtpServerBuilder builder, ServiceLifetime lifetime)
        where TService : class
        where TImplementation : class, TService
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.TryAdd(ServiceDescriptor.Describe(typeof(TImplementation), typeof(TImplementation), lifetime));
        builder.Services.Replace(ServiceDescriptor.Describe(typeof(TService), static sp => sp.GetRequiredService<TImplementation>(), lifetime));
        return builder;
    }
}
