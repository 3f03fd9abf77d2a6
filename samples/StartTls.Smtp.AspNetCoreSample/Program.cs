// The README's ASP.NET Core examples, runnable:
//   dotnet run --project samples/StartTls.Smtp.AspNetCoreSample           SMTP on the Kestrel endpoint "Smtp" of
//                                                                         appsettings.json (127.0.0.1:2525), health
//                                                                         at http://127.0.0.1:5080/healthz
//   dotnet run --project samples/StartTls.Smtp.AspNetCoreSample -- code   the same with the endpoints set in code
// Every setting can be overridden on the command line, e.g. --Kestrel:Endpoints:Smtp:Url=http://127.0.0.1:2526
// --Maildir:Path=/tmp/mail, or --Store=null (no storage, for load runs).
using StartTls.Smtp.AspNetCoreSample;

if (args is ["code", ..])
{
    await KestrelCodeExample.RunAsync(args[1..]);
}
else
{
    await KestrelConfigurationExample.RunAsync(args);
}
