// Hosts the SmtpServer NuGet package (cosullivan/SmtpServer 11.1.0, the peer the load comparison measures us against)
// on one loopback port, the way benchmarks/run-comparison.sh hosts our sample server: a null store or an .eml-file
// store, STARTTLS with the given certificate. It runs until SIGINT/SIGTERM. Usage: see PeerHostOptions.Usage.
using System.Net;
using System.Runtime.InteropServices;
using StartTls.Smtp.PeerHost;

var parsed = PeerHostOptions.Parse(args);
if (parsed.ShowHelp)
{
    Console.Out.Write(PeerHostOptions.Usage);
    return 0;
}

if (parsed.Options is not { } options)
{
    Console.Error.WriteLine($"error: {parsed.Error}");
    Console.Error.WriteLine("Run with --help for the list of options.");
    return 2;
}

using var stop = new CancellationTokenSource();
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);

try
{
    using var certificate = options.LoadCertificate();
    var store = options.CreateStore();
    var serverOptions = new SmtpServer.SmtpServerOptionsBuilder()
        .ServerName("peerhost")
        .Endpoint(endpoint =>
        {
            endpoint.Endpoint(new IPEndPoint(options.Address, options.Port));
            if (certificate is not null)
            {
                endpoint.Certificate(certificate).SupportedSslProtocols(options.SslProtocols);
            }
        })
        .Build();
    var services = new SmtpServer.ComponentModel.ServiceProvider();
    services.Add(store);
    var server = new SmtpServer.SmtpServer(serverOptions, services);
    var running = server.StartAsync(stop.Token);
    Console.Out.WriteLine(
        $"SmtpServer 11.1.0 listening on {options.Address}:{options.Port}, store {options.StoreDescription}, " +
        (certificate is null ? "no TLS" : $"STARTTLS {options.SslProtocols}"));
    try
    {
        await running;
    }
    catch (OperationCanceledException) when (stop.IsCancellationRequested)
    {
        // SIGINT/SIGTERM: the normal way out.
    }

    Console.Out.WriteLine("stopped");
    return 0;
}
catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or System.Security.Cryptography.CryptographicException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"error: {ex.Message}");
    return 1;
}

void Stop(PosixSignalContext context)
{
    context.Cancel = true;
    stop.Cancel();
}
