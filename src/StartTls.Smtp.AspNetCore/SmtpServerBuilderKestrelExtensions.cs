using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StartTls.Smtp.Hosting;

namespace StartTls.Smtp.AspNetCore;

/// <summary>Runs the SMTP server on Kestrel endpoints only.</summary>
public static class SmtpServerBuilderKestrelExtensions
{
    /// <summary>
    /// Kestrel-only mode: the server opens no socket of its own (<see cref="SmtpServerOptions.ListenOnOwnSockets"/> is
    /// set to false, so not even the default <c>127.0.0.1:2525</c>) and serves only the Kestrel endpoints marked with
    /// <see cref="SmtpListenOptionsExtensions.UseSmtp"/>. <see cref="SmtpServerOptions.Endpoints"/> must then be empty
    /// (the options fail validation at start otherwise). Without this call the server listens on its own endpoints and
    /// on the Kestrel ones.
    /// </summary>
    /// <param name="builder">The builder <c>AddSmtpServer</c> returned.</param>
    /// <returns>The builder.</returns>
    public static ISmtpServerBuilder UseKestrelOnly(this ISmtpServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<SmtpServerOptions>(static o => o.ListenOnOwnSockets = false);
        builder.Services.TryAddSingleton<KestrelSmtpEndpoints>();
        return builder;
    }
}
