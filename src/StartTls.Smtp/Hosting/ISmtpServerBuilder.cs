using Microsoft.Extensions.DependencyInjection;

namespace StartTls.Smtp.Hosting;

/// <summary>Configures the SMTP server registered by <c>AddSmtpServer</c>.</summary>
public interface ISmtpServerBuilder
{
    /// <summary>The service collection the server is registered in.</summary>
    IServiceCollection Services { get; }
}
