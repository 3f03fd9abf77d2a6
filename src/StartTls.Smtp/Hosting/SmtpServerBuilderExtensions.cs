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
}
