using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace StartTls.Smtp.AspNetCore;

/// <summary>Adds the SMTP server's health check.</summary>
public static class SmtpHealthChecksBuilderExtensions
{
    /// <summary>
    /// Adds a health check of the SMTP server registered by <c>services.AddSmtpServer(...)</c>: Healthy when every SMTP
    /// endpoint listens (the server's own sockets and the Kestrel endpoints with
    /// <see cref="SmtpListenOptionsExtensions.UseSmtp"/>), else <paramref name="failureStatus"/> (default Unhealthy).
    /// The result's data has one entry per endpoint, for example <c>"mx (socket 0.0.0.0:25)": "listening"</c> or
    /// <c>"submission (kestrel 127.0.0.1:587)": "not listening"</c>. While the application stops, nothing listens.
    /// </summary>
    /// <param name="builder">The health checks builder (<c>services.AddHealthChecks()</c>).</param>
    /// <param name="name">The check's name; default <c>smtp</c>.</param>
    /// <param name="failureStatus">The status when an endpoint does not listen; default <see cref="HealthStatus.Unhealthy"/>.</param>
    /// <param name="tags">Tags to filter checks by, for example <c>ready</c>.</param>
    /// <returns>The builder.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddHealthChecks().AddSmtpServer();
    /// app.MapHealthChecks("/healthz");
    /// </code>
    /// </example>
    public static IHealthChecksBuilder AddSmtpServer(this IHealthChecksBuilder builder, string name = "smtp",
        HealthStatus? failureStatus = null, IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrEmpty(name);
        builder.Services.TryAddSingleton<KestrelSmtpEndpoints>();
        return builder.Add(new HealthCheckRegistration(
            name,
            static sp => new SmtpServerHealthCheck(sp.GetRequiredService<SmtpServer>(), sp.GetRequiredService<KestrelSmtpEndpoints>()),
            failureStatus,
            tags));
    }
}
