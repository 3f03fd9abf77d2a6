// The mail catcher: SMTP in on 127.0.0.1:2525 (STARTTLS), a live web page and JSON API out on 127.0.0.1:8025.
// Flags: see CatcherOptions.Usage (`--help`); README.md beside this file.
using StartTls.Smtp.MailCatcher;

if (!CatcherOptions.TryParse(args, out var options, out var error))
{
    if (error is null)
    {
        Console.Out.Write(CatcherOptions.Usage);
        return 0;
    }

    Console.Error.WriteLine($"error: {error}");
    Console.Error.WriteLine("Run with --help for the list of options.");
    return 2;
}

try
{
    await using var app = MailCatcherApp.Build(options);
    await app.StartAsync();
    var logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("StartTls.Smtp.MailCatcher");
    var webUrl = app.WebAddress().ToString();
    var smtpEndPoints = string.Join(", ", SmtpHosting.SmtpEndPoints(app.Services));
    var databasePath = Path.GetFullPath(options.DatabasePath);
    CatcherLog.Ready(logger, webUrl, smtpEndPoints, databasePath, options.Keep);

    if (options.UserName is { } userName)
    {
        CatcherLog.AuthenticationRequired(logger, userName);
    }

    await app.WaitForShutdownAsync(); // Ctrl+C and SIGTERM stop it gracefully.
    return 0;
}
catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or Microsoft.Data.Sqlite.SqliteException or Microsoft.Extensions.Options.OptionsValidationException or UnauthorizedAccessException)
{
    // A port in use, an unusable database file, bad settings.
    Console.Error.WriteLine($"error: the mail catcher could not start: {ex.Message}");
    return 1;
}
