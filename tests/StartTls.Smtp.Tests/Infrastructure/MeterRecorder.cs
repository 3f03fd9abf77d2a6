using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// Records every long measurement of the StartTls.Smtp meter (any instance of it), as instrument name, value and
/// "key=value,..." tags. The listener sees the whole process: use it from tests in the <see cref="SerialTests"/> collection.
/// </summary>
public sealed class MeterRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, long Value, string Tags)> _measurements = new();

    public MeterRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "StartTls.Smtp")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var text = string.Join(",", tags.ToArray().Select(t => $"{t.Key}={t.Value}"));
            _measurements.Enqueue((instrument.Name, value, text));
        });
        _listener.Start();
    }

    /// <summary>The measurements of one instrument so far, oldest first.</summary>
    public List<(string Instrument, long Value, string Tags)> Recorded(string instrument)
        => _measurements.Where(m => m.Instrument == instrument).ToList();

    public void Dispose() => _listener.Dispose();
}
