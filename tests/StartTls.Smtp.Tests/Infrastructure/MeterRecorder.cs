using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using StartTls.Smtp.Diagnostics;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// Records the long-valued measurements of the servers built with <see cref="Factory"/> (a meter factory of the
/// test's own), so a test sees only its own servers and needs no serial collection.
/// </summary>
public sealed class MeterRecorder : IDisposable
{
    private readonly TestMeters _meters = new();
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, long Value, string Tags)> _measurements = new();

    public MeterRecorder()
    {
        var factory = _meters.Factory;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == SmtpTelemetry.MeterName && ReferenceEquals(instrument.Meter.Scope, factory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            // The endpoint tag is on every measurement; the rest is what the tests look at.
            var text = string.Join(",", tags.ToArray().Where(t => t.Key != SmtpTelemetry.EndpointTag).Select(t => $"{t.Key}={t.Value}"));
            _measurements.Enqueue((instrument.Name, value, text));
        });
        _listener.Start();
    }

    /// <summary>The meter factory to build the servers under test with.</summary>
    public IMeterFactory Factory => _meters.Factory;

    /// <summary>The measurements of one instrument so far, with their tags other than the endpoint's.</summary>
    public List<(string Instrument, long Value, string Tags)> Recorded(string instrument)
        => [.. _measurements.Where(m => m.Instrument == instrument)];

    public void Dispose()
    {
        _listener.Dispose();
        _meters.Dispose();
    }
}
