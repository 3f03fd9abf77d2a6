using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Hosting;

namespace StartTls.Smtp.Gateway;

/// <summary>Wires the gateway into a host: the SMTP server, its relay filter, its forwarding store and session handler.</summary>
internal static class GatewayHost
{
    /// <summary>Adds the gateway, configured by <paramref name="options"/>, to <paramref name="services"/>.</summary>
    public static IServiceCollection AddGateway(this IServiceCollection services, GatewayOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<UpstreamRelay>();

        // <readme:gateway-wiring>
        services.AddSmtpServer(smtp =>
            {
                smtp.ServerName = options.ServerName;
                // The MX takes mail for the relay domains from anyone and offers no AUTH; submission requires STARTTLS
                // and then AUTH before MAIL: the endpoints' own policy, enforced by the server.
                smtp.Endpoints.Add(new SmtpEndpointOptions { Name = "mx", Address = options.Listen, OfferAuthentication = false });
                if (options.Submission is not null)
                {
                    smtp.Endpoints.Add(new SmtpEndpointOptions
                    {
                        Name = GatewayOptions.SubmissionEndpointName,
                        Address = options.Submission,
                        RequireTls = true,
                        RequireAuthentication = true,
                    });
                }

                smtp.Tls.CertificatePath = options.Certificate;
                smtp.Tls.KeyPath = options.Key;
                if (options.Users.Count > 0)
                {
                    var users = new InMemoryUserStore();
                    foreach (var user in options.Users)
                    {
                        users.AddUser(user.UserName, user.Password);
                    }

                    smtp.Authentication.PasswordAuthenticator = users;
                    smtp.Authentication.ScramCredentialProvider = users;
                }
            })
            .UseMailboxFilter<RelayFilter>()        // relay policy + upstream RCPT at RCPT time
            .UseMessageStore<ForwardingStore>()     // spools, then forwards upstream; 250 only after the upstream's 250
            .UseSessionHandler<GatewaySessionHandler>(); // QUIT upstream when the client goes
        // </readme:gateway-wiring>
        return services;
    }
}
