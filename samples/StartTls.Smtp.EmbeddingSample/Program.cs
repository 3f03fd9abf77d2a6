// The README's embedding examples, runnable:
//   dotnet run --project samples/StartTls.Smtp.EmbeddingSample            the server inside a generic host (port 2526)
//   dotnet run --project samples/StartTls.Smtp.EmbeddingSample -- plain   the same server without a host
//   dotnet run --project samples/StartTls.Smtp.EmbeddingSample -- lmtp    an LMTP endpoint (127.0.0.1:2424) with a per-recipient store
//   dotnet run --project samples/StartTls.Smtp.EmbeddingSample -- scoped  a scoped EF Core store (SQLite mail.db), options
//                                                                          from configuration (Smtp__Endpoints__0__Address=...)
//   dotnet run --project samples/StartTls.Smtp.EmbeddingSample -- hooks   the transaction hooks' filter, tested without a socket
// The first two print each message to the console and accept recipients at example.com only.
using StartTls.Smtp.EmbeddingSample;

if (args is ["plain"])
{
    await PlainExample.RunAsync();
}
else if (args is ["hooks"])
{
    await SpamVerdictFilterCheck.RunAsync();
}
else if (args is ["lmtp"])
{
    await LmtpExample.RunAsync();
}
else if (args is ["scoped", ..])
{
    await ScopedStoreExample.RunAsync(args[1..]);
}
else
{
    await HostedExample.RunAsync(args);
}
