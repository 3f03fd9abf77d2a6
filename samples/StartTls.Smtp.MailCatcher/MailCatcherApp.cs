using StartTls.Smtp.MailCatcher.Storage;
using StartTls.Smtp.MailCatcher.Web;

namespace StartTls.Smtp.MailCatcher;

/// <summary>Builds the mail catcher: Kestrel for the page and API, the SMTP server, the SQLite store.</summary>
internal static class MailCatcherApp
{
    /// <summary>Builds the application for <paramref name="options"/>; start it with <c>RunAsync</c> or <c>StartAsync</c>.</summary>
    /// <param name="options">The catcher's options.</param>
    /// <returns>The application, its database created.</returns>
    public static WebApplication Build(CatcherOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // The command line belongs to CatcherOptions, so none of it is handed to the host.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = typeof(MailCatcherApp).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.ConfigureKestrel(k => k.Listen(options.Http));
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning); // Not a line per request.
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<MessageDatabase>();
        builder.Services.AddSingleton<MessageEvents>();
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.WriteIndented = false);
        builder.AddMailCatcherSmtp(options);

        var app = builder.Build();
        app.Services.GetRequiredService<MessageDatabase>().Initialize();
        app.UseCatcherSecurityHeaders();
        app.MapCatcherPages();
        app.MapMessageApi();
        return app;
    }

    /// <summary>The web page's base address once the app has started, e.g. <c>http://127.0.0.1:8025</c>.</summary>
    /// <param name="app">The started application.</param>
    /// <returns>The address, without a trailing slash.</returns>
    public static Uri WebAddress(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return new Uri(app.Urls.First());
    }
}
