using System.Diagnostics.CodeAnalysis;

// RS0026 guards against a later version adding an optional parameter to one of several overloads, which makes calls
// ambiguous. Both ServeAsync overloads end in the conventional `CancellationToken cancellationToken = default` and differ
// in their required parameters, so no call can be ambiguous.
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Only the trailing CancellationToken is optional; the required parameters differ.", Scope = "member", Target = "~M:StartTls.Smtp.SmtpServer.ServeAsync(StartTls.Smtp.SmtpConnectionContext,System.Threading.CancellationToken)~System.Threading.Tasks.Task")]
[assembly: SuppressMessage("ApiDesign", "RS0026:Do not add multiple public overloads with optional parameters", Justification = "Only the trailing CancellationToken is optional; the required parameters differ.", Scope = "member", Target = "~M:StartTls.Smtp.SmtpServer.ServeAsync(System.IO.Pipelines.IDuplexPipe,System.Net.EndPoint,System.Net.EndPoint,System.Threading.CancellationToken)~System.Threading.Tasks.Task")]
