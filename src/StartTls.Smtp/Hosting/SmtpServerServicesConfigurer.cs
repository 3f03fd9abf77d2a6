using Microsoft.Extensions.Options;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Hosting;

/// <summary>
/// Fills the code-only hooks of <see cref="SmtpServerOptions"/> (certificate selector, credential hooks) from the
/// container when the application registered them as services and did not set them in code.
/// </summary>
internal sealed class SmtpServerServicesConfigurer(IServiceProvider services) : IPostConfigureOptions<SmtpServerOptions>
{
    public void PostConfigure(string? name, SmtpServerOptions options)
    {
        options.Tls.CertificateSelector ??= Resolve<IServerCertificateSelector>();
        var auth = options.Authentication;
        auth.PasswordAuthenticator ??= Resolve<IPasswordAuthenticator>();
        auth.ScramCredentialProvider ??= Resolve<IScramCredentialProvider>();
        auth.CramMd5SecretProvider ??= Resolve<ICramMd5SecretProvider>();
        auth.OAuthTokenValidator ??= Resolve<IOAuthTokenValidator>();
        auth.Throttle ??= Resolve<IAuthenticationThrottle>();
    }

    private T? Resolve<T>()
        where T : class => services.GetService(typeof(T)) as T;
}
