using System.Net;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.MailCatcher.Storage;

namespace StartTls.Smtp.MailCatcher;

/// <summary>
/// Everything about how the SMTP side is hosted, in one place: today the library's own listener
/// (<c>AddSmtpServer</c>, a hosted service beside Kestrel). Moving SMTP onto Kestrel later changes this file only.
/// </summary>
internal static class SmtpHosting
{
    /// <summary>
    /// Adds the SMTP server on <see cref="CatcherOptions.Smtp"/>: STARTTLS with the development certificate, AUTH
    /// PLAIN and LOGIN required when a user is configured, and <see cref="CatcherMessageStore"/> as the store.
    /// </summary>
    /// <param name="builder">The web application builder.</param>
    /// <param name="options">The catcher's options.</param>
    /// <returns>The builder.</returns>
    public static WebApplicationBuilder AddMailCatcherSmtp(this WebApplicationBuilder builder, CatcherOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var (certificatePath, keyPath) = StartTls.Smtp.Server.DevelopmentCertificate.Ensure(options.CertificateDirectory, out _);
        InMemoryUserStore? users = null;
        if (options.UserName is { } userName && options.Password is { } password)
        {
            users = new InMemoryUserStore().AddUser(userName, password);
        }

        builder.Services.AddSmtpServer(o =>
        {
            o.Endpoints.Add(new SmtpEndpointOptions { Address = Format(options.Smtp), Name = "smtp" });
            o.Tls.CertificatePath = certificatePath;
            o.Tls.KeyPath = keyPath;
            o.ShutdownTimeout = TimeSpan.FromSeconds(5);
            if (users is not null)
            {
                o.Authentication.PasswordAuthenticator = users;
                o.Authentication.Mechanisms.Clear();
                o.Authentication.Mechanisms.Add(SaslMechanisms.Plain);
                o.Authentication.Mechanisms.Add(SaslMechanisms.Login);
                o.Authentication.RequireAuthentication = true;
            }
        }).UseMessageStore<CatcherMessageStore>();
        return builder;
    }

    /// <summary>The addresses the SMTP server listens on, once the app has started (the real port when 0 was asked).</summary>
    /// <param name="services">The app's services.</param>
    /// <returns>The endpoints.</returns>
    public static IReadOnlyList<IPEndPoint> SmtpEndPoints(IServiceProvider services)
        => services.GetRequiredService<SmtpServer>().ListeningEndPoints;

    private static string Format(IPEndPoint endPoint) => endPoint.ToString(); // 127.0.0.1:2525 or [::1]:2525
}
