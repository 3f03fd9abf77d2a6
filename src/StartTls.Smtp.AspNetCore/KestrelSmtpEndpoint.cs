using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Hosting;

namespace StartTls.Smtp.AspNetCore;

/// <summary>One Kestrel endpoint that serves SMTP (<see cref="SmtpListenOptionsExtensions.UseSmtp"/>), as the health check sees it.</summary>
internal sealed class KestrelSmtpEndpoint
{
    private readonly ListenOptions _listenOptions;
    private readonly IHostApplicationLifetime? _lifetime;
    private readonly string? _name;

    public KestrelSmtpEndpoint(ListenOptions listenOptions, string? name, IHostApplicationLifetime? lifetime)
    {
        _listenOptions = listenOptions;
        _name = name;
        _lifetime = lifetime;
    }

    /// <summary>The endpoint's name in logs and metrics: the configured one, else its address as Kestrel bound it.</summary>
    public string Name => string.IsNullOrEmpty(_name) ? Address : _name;

    /// <summary>The address, without Kestrel's <c>http://</c> (which here only means "no Kestrel TLS").</summary>
    public string Address
    {
        get
        {
            // Read when asked, not when built: Kestrel writes the real port into the options once it has bound port 0.
            var display = _listenOptions.ToString() ?? string.Empty;
            var scheme = display.IndexOf("://", StringComparison.Ordinal);
            return scheme < 0 ? display : display[(scheme + 3)..];
        }
    }

    /// <summary>
    /// Kestrel binds every endpoint before the application has started, and an endpoint that fails to bind fails the
    /// start; it stops accepting once the application is stopping.
    /// </summary>
    public bool IsListening => _lifetime is null
        || (_lifetime.ApplicationStarted.IsCancellationRequested && !_lifetime.ApplicationStopping.IsCancellationRequested);
}
