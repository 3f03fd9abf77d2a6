using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.AspNetCore.Builder;
using MimeKit;
using StartTls.Smtp.MailCatcher;
using StartTls.Smtp.MailCatcher.Web;

namespace StartTls.Smtp.MailCatcher.Tests.Infrastructure;

/// <summary>
/// A running mail catcher on loopback ports the system picked (HTTP and SMTP), with its own database and development
/// certificate in a temporary directory, an <see cref="HttpClient"/> for its API and a MailKit sender that trusts
/// exactly its certificate.
/// </summary>
internal sealed class CatcherInstance : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly string _directory;

    private CatcherInstance(WebApplication app, string directory, CatcherOptions options)
    {
        _app = app;
        _directory = directory;
        Options = options;
        WebAddress = app.WebAddress();
        SmtpPort = SmtpHosting.SmtpEndPoints(app.Services).Single().Port;
        Http = new HttpClient { BaseAddress = WebAddress, Timeout = TimeSpan.FromSeconds(30) };
        Certificate = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(options.CertificateDirectory, "localhost.crt")));
    }

    internal CatcherOptions Options { get; }

    /// <summary>The page's address, e.g. http://127.0.0.1:41234/.</summary>
    public Uri WebAddress { get; }

    /// <summary>The SMTP port on 127.0.0.1.</summary>
    public int SmtpPort { get; }

    /// <summary>A client for the JSON API.</summary>
    public HttpClient Http { get; }

    /// <summary>The development certificate the SMTP server presents.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The SQLite file.</summary>
    public string DatabasePath => Path.GetFullPath(Options.DatabasePath);

    /// <summary>Starts a catcher keeping <paramref name="keep"/> messages, requiring AUTH when <paramref name="user"/> (NAME:PASSWORD) is given.</summary>
    public static async Task<CatcherInstance> StartAsync(int keep = CatcherOptions.DefaultKeep, string? user = null)
    {
        var directory = Directory.CreateTempSubdirectory("mailcatcher-test-").FullName;
        var args = new List<string> { "--http", "127.0.0.1:0", "--smtp", "127.0.0.1:0", "--db", Path.Combine(directory, "db", "messages.db"), "--keep", keep.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        if (user is not null)
        {
            args.AddRange(["--user", user]);
        }

        CatcherOptions.TryParse(args, out var options, out var error).Should().BeTrue(error);
        var app = MailCatcherApp.Build(options);
        try
        {
            await app.StartAsync();
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }

        return new CatcherInstance(app, directory, options);
    }

    /// <summary>A MailKit client connected with STARTTLS, trusting only the catcher's certificate; authenticated when <paramref name="credentials"/> is given.</summary>
    public async Task<SmtpClient> ConnectAsync((string User, string Password)? credentials = null, CancellationToken cancellationToken = default)
    {
        var client = new SmtpClient { Timeout = 15_000, LocalDomain = "client.test", CheckCertificateRevocation = false };
        client.ServerCertificateValidationCallback = (_, certificate, _, _) =>
            certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(Certificate.RawData);
        await client.ConnectAsync("127.0.0.1", SmtpPort, SecureSocketOptions.StartTls, cancellationToken);
        if (credentials is { } c)
        {
            await client.AuthenticateAsync(c.User, c.Password, cancellationToken);
        }

        return client;
    }

    /// <summary>Sends <paramref name="message"/> over STARTTLS and returns the server's final reply text.</summary>
    public async Task<string> SendAsync(MimeMessage message, (string User, string Password)? credentials = null)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var client = await ConnectAsync(credentials, timeout.Token);
        var reply = await client.SendAsync(message, timeout.Token);
        await client.DisconnectAsync(true, timeout.Token);
        return reply;
    }

    /// <summary>GET /api/messages (with <paramref name="q"/> when given).</summary>
    public async Task<List<MessageSummary>> ListAsync(string? q = null)
    {
        var url = q is null ? "api/messages" : "api/messages?q=" + Uri.EscapeDataString(q);
        return (await Http.GetFromJsonAsync<List<MessageSummary>>(url))!;
    }

    /// <summary>GET /api/messages/{id}.</summary>
    public async Task<MessageDetail> GetAsync(long id)
        => (await Http.GetFromJsonAsync<MessageDetail>($"api/messages/{id}"))!;

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        Certificate.Dispose();
        using (var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            await _app.StopAsync(stop.Token);
        }

        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); // Release the file so the directory can go.
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp directory left behind is harmless.
        }
    }
}
