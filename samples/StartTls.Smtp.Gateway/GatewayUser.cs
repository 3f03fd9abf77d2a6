namespace StartTls.Smtp.Gateway;

/// <summary>A submission user given by <c>--user NAME:PASSWORD</c>.</summary>
/// <param name="UserName">The user name.</param>
/// <param name="Password">The password.</param>
internal sealed record GatewayUser(string UserName, string Password);
