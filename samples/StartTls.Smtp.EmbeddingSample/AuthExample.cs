// <readme:auth>
using Microsoft.Extensions.DependencyInjection;
using StartTls.Smtp;
using StartTls.Smtp.Authentication;
// </readme:auth>
using Microsoft.Extensions.Hosting;

namespace StartTls.Smtp.EmbeddingSample;

// <readme:auth>
// Passwords: PLAIN and LOGIN. Return the identity, or null to refuse (take the same time for unknown users).
internal sealed class MyPasswords(IUserDirectory users) : IPasswordAuthenticator
{
    public async ValueTask<string?> AuthenticateAsync(SmtpSession session, string userName, string password, string? authorizationIdentity, CancellationToken cancellationToken)
        => await users.CheckPasswordAsync(userName, password, cancellationToken) && authorizationIdentity is null ? userName : null;
}

// OAuth 2.0 bearer tokens: XOAUTH2 and OAUTHBEARER.
internal sealed class MyTokens(ITokenIntrospection introspection) : IOAuthTokenValidator
{
    public async ValueTask<string?> ValidateAsync(SmtpSession session, string? userName, string token, CancellationToken cancellationToken)
        => await introspection.GetSubjectAsync(token, cancellationToken) is { } subject && (userName is null || userName == subject) ? subject : null;
}
// </readme:auth>

// README: "AUTH". Not called by Program: the sample has no user directory to register.
internal static class AuthExample
{
    public static void AddCredentialHooks(HostApplicationBuilder builder)
    {
        // <readme:auth>
        builder.Services.AddSingleton<IPasswordAuthenticator, MyPasswords>();   // picked up by AddSmtpServer
        builder.Services.AddSingleton<IOAuthTokenValidator, MyTokens>();
        // </readme:auth>
    }
}
