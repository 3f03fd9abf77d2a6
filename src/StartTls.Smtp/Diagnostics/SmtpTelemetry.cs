namespace StartTls.Smtp.Diagnostics;

/// <summary>The names under which the server publishes its telemetry, for OpenTelemetry or dotnet-counters.</summary>
/// <example>
/// <code>
/// builder.Services.AddOpenTelemetry().WithMetrics(m => m.AddMeter(SmtpTelemetry.MeterName));
/// // or: dotnet-counters monitor -n MyApp --counters StartTls.Smtp
/// </code>
/// </example>
public static class SmtpTelemetry
{
    /// <summary>The name of the meter every server's instruments are on: <c>StartTls.Smtp</c>.</summary>
    public const string MeterName = "StartTls.Smtp";

    /// <summary>The tag, on the meter, that carries the server's name (<see cref="SmtpServerOptions.ServerName"/>).</summary>
    public const string ServerNameTag = "smtp.server.name";

    /// <summary>The tag, on each measurement of a connection, that names its endpoint (<see cref="SmtpEndpointOptions.Name"/>).</summary>
    public const string EndpointTag = "smtp.endpoint";
}
