using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using StartTls.Smtp.Diagnostics;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// A meter factory of a test's own (the one <c>AddMetrics</c> registers), so that a test sees only the measurements
/// of the server it built, and can run in parallel with every other test.
/// </summary>
public sealed class TestMeters : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public IMeterFactory Factory => _services.GetRequiredService<IMeterFactory>();

    /// <summary>Collects one instrument of the server's meter.</summary>
    public MetricCollector<T> Collect<T>(string instrument)
        where T : struct
        => new(Factory, SmtpTelemetry.MeterName, instrument);

    public void Dispose() => _services.Dispose();
}
