using System.Diagnostics.Metrics;
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
    /// <c>IOptions&lt;SmtpServerOptions&gt;</c> (bind them from configuration with <c>services.Configure</c>) and are
    /// validated when the host starts. Services registered as <c>IServerCertificateSelector</c>, <c>IPasswordAuthenticator</c>,
    /// <c>IScramCredentialProvider</c>, <c>ICramMd5SecretProvider</c>, <c>IOAuthTokenValidator</c> or
    /// <c>IAuthenticationThrottle</c> fill the matching option when code left it unset. Choose a store with <see cref="SmtpServerBuilderExtensions.UseMessageStore{TStore}"/>
    /// or one of the built-in ones; the default mailbox filter accepts everything. A registered <see cref="TimeProvider"/>
    /// drives every timeout, and a registered <see cref="IMeterFactory"/> (<c>AddMetrics</c>) creates the server's meter.
    /// </summary>
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

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SmtpServerOptions>, SmtpServerOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IPostConfigureOptions<SmtpServerOptions>, SmtpServerServicesConfigurer>());
        services.TryAddSingleton<IMailboxFilter>(AcceptAllMailboxFilter.Instance);
        services.TryAddSingleton(static sp => new SmtpServer(
            sp.GetRequiredService<IOptions<SmtpServerOptions>>().Value,
            sp.GetService<IMessageStore>() ?? throw new InvalidOperationException("No IMessageStore is registered: call UseMessageStore, UseMaildirStore or UseInMemoryStore on the builder AddSmtpServer returns."),
            sp.GetRequiredService<IMailboxFilter>(),
            sp.GetService<ISessionHandler>(),
            sp.GetService<ILoggerFactory>(),
            sp.GetService<TimeProvider>(),
            sp.GetService<IMeterFactory>()));
        services.AddHostedService<SmtpServerHostedService>();
        return new SmtpServerBuilder(services);
    }

    private sealed class SmtpServerBuilder(IServiceCollection services) : ISmtpServerBuilder
    {
        public IServiceCollection Services { get; } = services;
    }
}
