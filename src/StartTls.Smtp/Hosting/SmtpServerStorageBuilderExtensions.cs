using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Hosting;

/// <summary>Chooses one of the built-in message stores: Maildir on disk, in memory, or none.</summary>
public static class SmtpServerStorageBuilderExtensions
{
    /// <summary>
    /// Stores each message durably in a Maildir (<see cref="MaildirMessageStore"/>). The store's options come from
    /// <c>IOptions&lt;MaildirStoreOptions&gt;</c> (bind them from configuration with <c>services.Configure</c>) and
    /// <paramref name="configure"/>. When <see cref="MaildirStoreOptions.ServerName"/> is not set, the server's
    /// <see cref="SmtpServerOptions.ServerName"/> is written in the <c>Received</c> header. The container disposes the
    /// store, which stops its periodic cleanup of <c>tmp</c>.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <param name="configure">Configures the store in code, for example its <see cref="MaildirStoreOptions.Path"/>; optional.</param>
    /// <returns>The builder.</returns>
    /// <example>
    /// <code>
    /// services.AddSmtpServer().UseMaildirStore(o => o.Path = "/var/mail/incoming");
    /// </code>
    /// </example>
    public static ISmtpServerBuilder UseMaildirStore(this ISmtpServerBuilder builder, Action<MaildirStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<MaildirStoreOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.Replace(ServiceDescriptor.Singleton<IMessageStore>(static sp =>
        {
            var configured = sp.GetRequiredService<IOptions<MaildirStoreOptions>>().Value;
            var storeOptions = new MaildirStoreOptions
            {
                Path = configured.Path,
                AddTraceHeaders = configured.AddTraceHeaders,
                ServerName = configured.ServerName ?? sp.GetService<IOptions<SmtpServerOptions>>()?.Value.ServerName,
                FsyncDirectory = configured.FsyncDirectory,
                TmpMaxAge = configured.TmpMaxAge,
                TmpCleanupInterval = configured.TmpCleanupInterval,
            };
            return new MaildirMessageStore(storeOptions, sp.GetService<ILogger<MaildirMessageStore>>());
        }));
        return builder;
    }

    /// <summary>
    /// Keeps every message in memory (<see cref="InMemoryMessageStore"/>), for tests and demonstrations; memory grows
    /// with every message. The store is also registered as <see cref="InMemoryMessageStore"/>, so the messages can be
    /// read back from the container.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ISmtpServerBuilder UseInMemoryStore(this ISmtpServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseMessageStore<InMemoryMessageStore>();
    }

    /// <summary>
    /// Reads every message to its end and discards it (<see cref="NullMessageStore"/>), answering <c>250</c>:
    /// for load tests, or when only the mailbox filter and session handler matter.
    /// </summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static ISmtpServerBuilder UseNullStore(this ISmtpServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseMessageStore(NullMessageStore.Instance);
    }
}
