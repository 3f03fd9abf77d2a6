using System.Collections.Concurrent;

namespace StartTls.Smtp.AspNetCore;

/// <summary>
/// The Kestrel endpoints that serve SMTP in this application, registered by the health check and by
/// <see cref="SmtpServerBuilderKestrelExtensions.UseKestrelOnly"/>; each endpoint adds itself when Kestrel binds it.
/// </summary>
internal sealed class KestrelSmtpEndpoints
{
    private readonly ConcurrentQueue<KestrelSmtpEndpoint> _endpoints = new();

    public void Add(KestrelSmtpEndpoint endpoint) => _endpoints.Enqueue(endpoint);

    public IReadOnlyCollection<KestrelSmtpEndpoint> Snapshot() => _endpoints.ToArray();
}
