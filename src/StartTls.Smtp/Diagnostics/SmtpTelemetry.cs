namespace StartTls.Smtp.Diagnostics;

/// <summary>
/// The names under which the server publishes its telemetry, for OpenTelemetry, dotnet-counters or dotnet-trace.
/// The instruments, spans and their attributes are listed in docs/observability.md.
/// </summary>
/// <example>
/// <code>
/// builder.Services.AddOpenTelemetry()
///     .WithMetrics(m => m.AddMeter(SmtpTelemetry.MeterName))
///     .WithTracing(t => t.AddSource(SmtpTelemetry.ActivitySourceName));
/// // or: dotnet-counters monitor -n MyApp --counters StartTls.Smtp
/// </code>
/// </example>
public static class SmtpTelemetry
{
    /// <summary>The name of the meter every server's instruments are on: <c>StartTls.Smtp</c>.</summary>
    public const string MeterName = "StartTls.Smtp";

    /// <summary>
    /// The name of the <see cref="System.Diagnostics.ActivitySource"/> of the server's spans: <c>StartTls.Smtp</c>. Each
    /// session is a span of kind Server (<c>smtp.session</c>), the root of its own trace, with a child span per mail
    /// transaction (<c>smtp.transaction</c>). With no listener, no span is created.
    /// </summary>
    public const string ActivitySourceName = "StartTls.Smtp";

    /// <summary>The tag, on the meter, that carries the server's name (<see cref="SmtpServerOptions.ServerName"/>).</summary>
    public const string ServerNameTag = "smtp.server.name";

    /// <summary>The tag, on each measurement of a connection, that names its endpoint (<see cref="SmtpEndpointOptions.Name"/>).</summary>
    public const string EndpointTag = "smtp.endpoint";
}
