using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace StartTls.Smtp.AspNetCore;

/// <summary>Serves SMTP on a Kestrel endpoint.</summary>
public static class SmtpListenOptionsExtensions
{
    /// <summary>
    /// Serves every connection of this Kestrel endpoint with the <see cref="SmtpServer"/> registered by
    /// <c>services.AddSmtpServer(...)</c>, through <see cref="SmtpServer.ServeAsync(SmtpConnectionContext, CancellationToken)"/>:
    /// the server's limits (overall and per IP), timeouts, metrics, TLS and extension points apply exactly as on its
    /// own sockets. Kestrel only accepts the connection: give the endpoint a plain <c>http://</c> address (in
    /// configuration) and no <c>UseHttps</c>; STARTTLS and implicit TLS are done by the SMTP server with its own
    /// certificates and SNI selector (<see cref="SmtpServerOptions.Tls"/>). When the application stops, idle sessions
    /// get <c>421 4.3.2</c> and messages being received may finish within <see cref="SmtpServerOptions.ShutdownTimeout"/>.
    /// The server still opens its own sockets too unless <see cref="SmtpServerBuilderKestrelExtensions.UseKestrelOnly"/>
    /// is called.
    /// </summary>
    /// <param name="listenOptions">The Kestrel endpoint.</param>
    /// <param name="configure">
    /// The endpoint's SMTP policy: <see cref="SmtpEndpointOptions.ImplicitTls"/>, <see cref="SmtpEndpointOptions.RequireTls"/>,
    /// the per-endpoint AUTH, STARTTLS, size and PROXY protocol settings, <see cref="SmtpEndpointOptions.Protocol"/> (LMTP) and <see cref="SmtpEndpointOptions.Name"/> (default: the endpoint's address, for example <c>127.0.0.1:2525</c>).
    /// <see cref="SmtpEndpointOptions.Address"/> is not used: Kestrel's endpoint decides where to listen.
    /// </param>
    /// <returns>The listen options.</returns>
    /// <example>
    /// <code>
    /// builder.Services.AddSmtpServer().UseMaildirStore(o => o.Path = "mail").UseKestrelOnly();
    /// builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(2525, l => l.UseSmtp()));
    /// </code>
    /// </example>
    public static ListenOptions UseSmtp(this ListenOptions listenOptions, Action<SmtpEndpointOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(listenOptions);
        var configured = new SmtpEndpointOptions();
        configure?.Invoke(configured);

        // A snapshot, as the server takes of its own endpoints; Address is Kestrel's business.
        var name = configured.Name;
        var implicitTls = configured.ImplicitTls;
        var requireTls = configured.RequireTls;
        KestrelSmtpEndpoint? endpoint = null;
        listenOptions.Use(next =>
        {
            // Built when Kestrel binds the endpoint (once per address for ListenLocalhost); the container is ready by then.
            var services = listenOptions.ApplicationServices;
            var server = services.GetService<SmtpServer>()
                ?? throw new InvalidOperationException("UseSmtp needs the SMTP server: call services.AddSmtpServer(...) (StartTls.Smtp.Hosting).");
            var tls = services.GetRequiredService<IOptions<SmtpServerOptions>>().Value.Tls;
            if ((implicitTls || requireTls) && !tls.IsConfigured)
            {
                throw new InvalidOperationException($"The SMTP endpoint {listenOptions} uses TLS, but no certificate is configured in SmtpServerOptions.Tls.");
            }

            if (implicitTls && requireTls)
            {
                throw new InvalidOperationException($"The SMTP endpoint {listenOptions} is implicit TLS; RequireTls applies only to STARTTLS endpoints.");
            }

            var lifetime = services.GetService<IHostApplicationLifetime>();
            if (endpoint is null)
            {
                endpoint = new KestrelSmtpEndpoint(listenOptions, name, lifetime);

                // The policy is checked when Kestrel binds, as the server checks its own endpoints: a bad one stops the start.
                var policy = configured.Clone();
                policy.Address = endpoint.Address;
                server.ValidateEndpoint(policy);
                services.GetService<KestrelSmtpEndpoints>()?.Add(endpoint);

                // Kestrel stops only after the application has been told to: drain the SMTP sessions from that moment
                // (idle ones get 421 4.3.2 at once). The server's stop is shared, so the host's later stop waits for it.
                lifetime?.ApplicationStopping.Register(static s => _ = ((SmtpServer)s!).StopAsync(), server);
            }

            _ = next; // the SMTP server is the terminal handler: Kestrel's HTTP server behind it never runs
            var handler = new SmtpKestrelConnectionHandler(server, endpoint, configured);
            return handler.OnConnectedAsync;
        });
        return listenOptions;
    }
}
