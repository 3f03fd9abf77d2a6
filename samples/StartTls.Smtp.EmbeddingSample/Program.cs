// The README's embedding examples, runnable:
//   dotnet run --project samples/StartTls.Smtp.EmbeddingSample            the server inside a generic host (port 2526)
//   dotnet run --project samples/StartTls.Smtp.EmbeddingSample -- plain   the same server without a host
// Both print each message to the console and accept recipients at example.com only.
using StartTls.Smtp.EmbeddingSample;

if (args is ["plain"])
{
    await PlainExample.RunAsync();
}
else
{
    await HostedExample.RunAsync(args);
}
