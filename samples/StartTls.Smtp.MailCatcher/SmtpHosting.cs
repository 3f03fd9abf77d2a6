using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using StartTls.Smtp.AspNetCore;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.MailCatcher.Storage;

namespace StartTls.Smtp.MailCatcher;

/// <summary>
/// Everything about how the SMTP side is hosted, in one place: SMTP on a Kestrel endpoint of its own
/// (<c>UseSmtp</c>, package StartTls.Smtp.AspNetCore) beside the HTTP one, so one server accepts both and stops both;
/// the SMTP server opens no socket of its own (<c>UseKestrelOnly</c>).
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
        }).UseMessageStore<CatcherMessageStore>().UseKestrelOnly();

        // STARTTLS is the SMTP server's own (with the development certificate), so the endpoint stays plain for Kestrel.
        var listener = new SmtpListener();
        builder.Services.AddSingleton(listener);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(options.Smtp, listen =>
        {
            listener.Options = listen;
            listen.UseSmtp(endpoint => endpoint.Name = "smtp");
        }));
        return builder;
    }

    /// <summary>The addresses the SMTP server listens on, once the app has started (the real port when 0 was asked).</summary>
    /// <param name="services">The app's services.</param>
    /// <returns>The endpoints.</returns>
    public static IReadOnlyList<IPEndPoint> SmtpEndPoints(IServiceProvider services)
        => services.GetRequiredService<SmtpListener>().Options?.IPEndPoint is { } endPoint ? [endPoint] : [];

    /// <summary>The Kestrel endpoint SMTP is served on; Kestrel writes the bound port into it when 0 was asked.</summary>
    private sealed class SmtpListener
    {
        public ListenOptions? Options { get; set; }
    }
}
