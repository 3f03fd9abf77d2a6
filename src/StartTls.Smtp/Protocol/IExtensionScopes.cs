namespace StartTls.Smtp.Protocol;

/// <summary>
/// Where sessions find the application's extension points (session handler, mailbox filter, message store). The
/// engine knows only this: the hosting layer gives it one that opens a dependency-injection scope per session and per
/// transaction, an embedder that passes instances gets <see cref="FixedExtensions"/>, which shares them and costs nothing.
/// </summary>
internal interface IExtensionScopes
{
    /// <summary>Opens the extension points of a new session; <c>DisposeAsync</c> closes them.</summary>
    /// <returns>The session's extension points.</returns>
    ISessionExtensions OpenSession();
}
