using System.Diagnostics.Metrics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Hosting;

/// <summary>Registers the SMTP server in a host (<c>Microsoft.Extensions.Hosting</c>).</summary>
public static class SmtpServerServiceCollectionExtensions
{
    /// <summary>
    /// Adds an <see cref="SmtpServer"/> that starts and stops with the host. Options come from
    /// <c>IOptions&lt;SmtpServerOptions&gt;</c> (bind them from configuration with the
    /// <see cref="AddSmtpServer(IServiceCollection, IConfiguration, Action{SmtpServerOptions})"/> overload) and are
    /// validated when the host starts. Services registered as <c>IServerCertificateSelector</c>, <c>IPasswordAuthenticator</c>,
    /// <c>IScramCredentialProvider</c>, <c>ICramMd5SecretProvider</c>, <c>IOAuthTokenValidator</c> or
    /// <c>IAuthenticationThrottle</c> fill the matching option when code left it unset. Choose a store with <see cref="SmtpServerBuilderExtensions.UseMessageStore{TStore}(ISmtpServerBuilder)"/>
    /// or one of the built-in ones; the default mailbox filter accepts everything. A registered <see cref="TimeProvider"/>
    /// drives every timeout, and a registered <see cref="IMeterFactory"/> (<c>AddMetrics</c>) creates the server's meter.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The store, the mailbox filter and the session handler may be registered with any lifetime; singletons are
    /// resolved once, when the server is created. Each session gets a dependency-injection scope, from which a scoped
    /// or transient <see cref="ISessionHandler"/> is resolved, and each mail transaction
    /// (from <c>MAIL</c> to the reply to its content, <c>RSET</c>, a new greeting or the close) a scope of its own, from
    /// which a scoped or transient <see cref="IMailboxFilter"/> and <see cref="IMessageStore"/> are resolved: a scoped store or filter gets
    /// a fresh <c>DbContext</c> per message. The transaction's scope is a new scope of the root
    /// <see cref="IServiceScopeFactory"/>, not a child of the session's (Microsoft.Extensions.DependencyInjection has no
    /// nested scopes), so the two do not share scoped instances. Scopes are disposed asynchronously when their
    /// transaction or session ends, however it ends (client gone mid-DATA, server stopping). The current scope is
    /// <see cref="SmtpSession.Services"/>.
    /// </para>
    /// </remarks>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Configures the options in code; optional.</param>
    /// <returns>A builder for the store, filter and session handler.</returns>
    public static ISmtpServerBuilder AddSmtpServer(this IServiceCollection services, Action<SmtpServerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<SmtpServerOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return Register(services, options);
    }

    /// <summary>
    /// Adds an <see cref="SmtpServer"/> whose options are bound from <paramref name="configuration"/> (for example
    /// <c>builder.Configuration.GetSection("Smtp")</c>): every property of <see cref="SmtpServerOptions"/>, with the
    /// <c>Endpoints</c> as a list (<c>Smtp:Endpoints:0:Address</c>), and the nested <c>Tls</c> and
    /// <c>Authentication</c> sections. Otherwise as <see cref="AddSmtpServer(IServiceCollection, Action{SmtpServerOptions})"/>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section holding the options.</param>
    /// <returns>A builder for the store, filter and session handler.</returns>
    public static ISmtpServerBuilder AddSmtpServer(this IServiceCollection services, IConfiguration configuration)
        => AddSmtpServer(services, configuration, null);

    /// <summary>
    /// Adds an <see cref="SmtpServer"/> whose options are bound from <paramref name="configuration"/>, then configured
    /// by <paramref name="configure"/>. The order is the rule: configuration first, code second. Code sees the bound
    /// values and has the last word; in particular the endpoints of both are kept (the configuration's first), and code
    /// that wants only its own calls <c>Endpoints.Clear()</c> before adding them. Every invalid value, from either, is
    /// reported when the host starts, in one <see cref="OptionsValidationException"/> that lists them all.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configuration">The configuration section holding the options.</param>
    /// <param name="configure">Configures the options in code after the configuration was bound; may be <see langword="null"/>.</param>
    /// <returns>A builder for the store, filter and session handler.</returns>
    /// <example>
    /// <code>
    /// // appsettings.json: { "Smtp": { "ServerName": "mx.example.com", "Endpoints": [ { "Address": "*:25" } ] } }
    /// builder.Services.AddSmtpServer(builder.Configuration.GetSection("Smtp"), o => o.MaxRecipients = 50)
    ///     .UseMaildirStore(o => o.Path = "mail");
    /// </code>
    /// </example>
    public static ISmtpServerBuilder AddSmtpServer(this IServiceCollection services, IConfiguration configuration, Action<SmtpServerOptions>? configure)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        // Registration order is the order the options are configured in: the binding, then the code.
        var options = services.AddOptions<SmtpServerOptions>().Bind(configuration);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        return Register(services, options);
    }

    private static SmtpServerBuilder Register(IServiceCollection services, OptionsBuilder<SmtpServerOptions> options)
    {
        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SmtpServerOptions>, SmtpServerOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<SmtpServerOptions>, SmtpServerServicesConfigurer>());
        services.TryAddSingleton<IMailboxFilter>(AcceptAllMailboxFilter.Instance);

        // The lambda keeps the collection: when the server is created, its registrations tell which extension points
        // are singletons (resolved once) and which are resolved per session or transaction.
        services.TryAddSingleton(sp => CreateServer(sp, services));
        services.AddHostedService<SmtpServerHostedService>();
        return new SmtpServerBuilder(services);
    }

    private static SmtpServer CreateServer(IServiceProvider provider, IServiceCollection registrations)
    {
        var options = provider.GetRequiredService<IOptions<SmtpServerOptions>>().Value;
        var loggerFactory = provider.GetService<ILoggerFactory>();
        var timeProvider = provider.GetService<TimeProvider>();
        var meterFactory = provider.GetService<IMeterFactory>();
        // Nothing scoped may be resolved from the root (ValidateScopes): only ask whether a store is registered.
        if (provider.GetService<IServiceProviderIsService>() is { } isService && !isService.IsService(typeof(IMessageStore)))
        {
            throw NoStore();
        }

        // Singletons are resolved now, once; the others in each session's or transaction's scope.
        var handlerIsShared = IsSingletonOrAbsent(registrations, typeof(ISessionHandler));
        var shared = new SharedExtensions(
            IsSingletonOrAbsent(registrations, typeof(IMessageStore)) ? provider.GetService<IMessageStore>() ?? throw NoStore() : null,
            IsSingletonOrAbsent(registrations, typeof(IMailboxFilter)) ? provider.GetService<IMailboxFilter>() : null,
            handlerIsShared ? provider.GetService<ISessionHandler>() : null,
            handlerIsShared);
        return new SmtpServer(options, new ServiceScopeExtensions(provider.GetRequiredService<IServiceScopeFactory>(), shared),
            loggerFactory, timeProvider, meterFactory);
    }

    /// <summary>True when the last registration of <paramref name="serviceType"/> is a singleton, or there is none.</summary>
    private static bool IsSingletonOrAbsent(IServiceCollection registrations, Type serviceType)
    {
        ServiceDescriptor? last = null;
        foreach (var descriptor in registrations)
        {
            if (descriptor.ServiceType == serviceType && !descriptor.IsKeyedService)
            {
                last = descriptor;
            }
        }

        return last is null || last.Lifetime == ServiceLifetime.Singleton;
    }

    private static InvalidOperationException NoStore()
        => new("No IMessageStore is registered: call UseMessageStore, UseMaildirStore or UseInMemoryStore on the builder AddSmtpServer returns.");

    private sealed class SmtpServerBuilder(IServiceCollection services) : ISmtpServerBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
