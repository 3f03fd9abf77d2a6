// <readme:scoped-store>
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StartTls.Smtp;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.Storage;
// </readme:scoped-store>
// <readme:opentelemetry>
using StartTls.Smtp.Diagnostics;
// </readme:opentelemetry>

namespace StartTls.Smtp.EmbeddingSample;

/// <summary>A store with a scoped <c>DbContext</c>, options from configuration, and OpenTelemetry for the server.</summary>
internal static class ScopedStoreExample
{
    public static async Task RunAsync(string[] args)
    {
        // <readme:scoped-store>
        var builder = Host.CreateApplicationBuilder(args); // or WebApplication.CreateBuilder(args)
        builder.Services.AddDbContext<MailDb>(o => o.UseSqlite("Data Source=mail.db"));
        builder.Services.AddSmtpServer(builder.Configuration.GetSection("Smtp"), o => o.ServerName ??= "mx.example.com")
            .UseMessageStore<DbMessageStore>(ServiceLifetime.Scoped); // a store, and its DbContext, per message
        // </readme:scoped-store>

        // <readme:opentelemetry>
        builder.Services.AddOpenTelemetry()
            .WithTracing(t => t.AddSource(SmtpTelemetry.ActivitySourceName)) // a span per session and per transaction
            .WithMetrics(m => m.AddMeter(SmtpTelemetry.MeterName));          // the instruments of docs/observability.md
        // Then an exporter for each, for example .AddOtlpExporter() (package OpenTelemetry.Exporter.OpenTelemetryProtocol).
        // </readme:opentelemetry>

        using var host = builder.Build();
        await using (var scope = host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<MailDb>().Database.EnsureCreatedAsync();
        }

        await host.RunAsync();
    }
}

// <readme:scoped-store>
internal sealed class DbMessageStore(MailDb db) : IMessageStore
{
    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, cancellationToken);
        db.Messages.Add(new StoredMail { SessionId = session.Id, Recipients = envelope.Recipients.Count, Content = buffer.ToArray() });
        await db.SaveChangesAsync(cancellationToken);
        return SmtpReply.MessageAccepted; // 250, once the row is saved
    }
}

internal sealed class MailDb(DbContextOptions<MailDb> options) : DbContext(options)
{
    public DbSet<StoredMail> Messages => Set<StoredMail>();
}

internal sealed class StoredMail
{
    public int Id { get; set; }
    public required string SessionId { get; set; }
    public int Recipients { get; set; }
    public required byte[] Content { get; set; }
}
// </readme:scoped-store>
