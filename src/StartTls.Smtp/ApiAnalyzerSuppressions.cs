using System.Diagnostics.CodeAnalysis;

// RS0026 guards against a later version adding an optional parameter to one of several overloads, which makes calls
// ambiguous. Both ServeAsync overloads end in the conventional `CancellationToken cancellationToken = default` and differ
// in their required parameters, so no call can be ambiguous.
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Only the trailing CancellationToken is optional; the required parameters differ.", Scope = "member", Target = "~M:StartTls.Smtp.SmtpServer.ServeAsync(StartTls.Smtp.SmtpConnectionContext,System.Threading.CancellationToken)~System.Threading.Tasks.Task")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Only the trailing CancellationToken is optional; the required parameters differ.", Scope = "member", Target = "~M:StartTls.Smtp.SmtpServer.ServeAsync(System.IO.Pipelines.IDuplexPipe,System.Net.EndPoint,System.Net.EndPoint,System.Threading.CancellationToken)~System.Threading.Tasks.Task")]

// RS0027 wants the overload with an optional parameter to have the most parameters. AddSmtpServer(services, configure = null)
// is the first overload users meet; the configuration overloads take an IConfiguration as their second parameter, so
// no call to one can bind to another, and a later optional parameter would go on the configuration overload.
[assembly: SuppressMessage("ApiDesign", "RS0027:API with optional parameter(s) should have the most parameters amongst its public overloads", Justification = "The overloads differ in the type of their second parameter.", Scope = "member", Target = "~M:StartTls.Smtp.Hosting.SmtpServerServiceCollectionExtensions.AddSmtpServer(Microsoft.Extensions.DependencyInjection.IServiceCollection,System.Action{StartTls.Smtp.SmtpServerOptions})~StartTls.Smtp.Hosting.ISmtpServerBuilder")]
