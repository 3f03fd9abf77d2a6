using Microsoft.Extensions.Hosting;

namespace StartTls.Smtp.Hosting;

/// <summary>Starts the <see cref="SmtpServer"/> with the host and stops it gracefully with the host.</summary>
internal sealed class SmtpServerHostedService(SmtpServer server) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => server.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => server.StopAsync(cancellationToken);
}
