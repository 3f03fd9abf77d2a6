using Microsoft.Extensions.DependencyInjection;

namespace StartTls.Smtp.Hosting;

/// <summary>Configures the SMTP server registered by <see cref="SmtpServerServiceCollectionExtensions.AddSmtpServer"/>.</summary>
public interface ISmtpServerBuilder
{
    /// <summary>The service collection the server is registered in.</summary>
    IServiceCollection Services { get; }
}
