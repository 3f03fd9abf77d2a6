namespace StartTls.Smtp.Protocol;

/// <summary>The application's extension points a connection calls, for logs.</summary>
internal enum HookKind : byte
{
    SessionHandler,
    MailboxFilter,
    AuthenticationThrottle,
    Authentication,
    MessageStore,
}

/// <summary>Names of <see cref="HookKind"/> values.</summary>
internal static class HookKindNames
{
    public static string Describe(this HookKind kind) => kind switch
    {
        HookKind.SessionHandler => "session handler",
        HookKind.MailboxFilter => "mailbox filter",
        HookKind.AuthenticationThrottle => "authentication throttle",
        HookKind.Authentication => "authentication hook",
        _ => "message store",
    };
}
