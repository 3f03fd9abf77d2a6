using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace StartTls.Smtp.AspNetCore;

/// <summary>
/// Healthy when every SMTP endpoint listens: the server's own sockets (<see cref="SmtpServer.GetEndpointStates"/>)
/// and the Kestrel endpoints with <see cref="SmtpListenOptionsExtensions.UseSmtp"/>. Otherwise the registration's
/// failure status, with one data entry per endpoint.
/// </summary>
internal sealed class SmtpServerHealthCheck(SmtpServer server, KestrelSmtpEndpoints kestrel) : IHealthCheck
{
    private const string Listening = "listening";
    private const string NotListening = "not listening";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var data = new Dictionary<string, object>(StringComparer.Ordinal);
        var down = new List<string>();
        foreach (var state in server.GetEndpointStates())
        {
            Add(data, down, state.Name, "socket " + (state.EndPoint?.ToString() ?? state.Address), state.IsListening);
        }

        foreach (var endpoint in kestrel.Snapshot())
        {
            Add(data, down, endpoint.Name, "kestrel " + endpoint.Address, endpoint.IsListening);
        }

        var result = data.Count == 0
            ? new HealthCheckResult(context.Registration.FailureStatus, "No SMTP endpoint: the server opens no socket of its own and no Kestrel endpoint has UseSmtp.", data: data)
            : down.Count > 0
                ? new HealthCheckResult(context.Registration.FailureStatus, "SMTP endpoints not listening: " + string.Join(", ", down) + ".", data: data)
                : HealthCheckResult.Healthy($"{data.Count} SMTP endpoint(s) listening.", data);
        return Task.FromResult(result);
    }

    /// <summary>One entry per endpoint, keyed by its name and where it listens, e.g. <c>mx (socket 0.0.0.0:25)</c>.</summary>
    private static void Add(Dictionary<string, object> data, List<string> down, string name, string where, bool listening)
    {
        var key = $"{name} ({where})";
        data[key] = listening ? Listening : NotListening;
        if (!listening)
        {
            down.Add(key);
        }
    }
}
