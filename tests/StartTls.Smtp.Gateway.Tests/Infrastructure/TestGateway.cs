using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Gateway.Tests.Infrastructure;

/// <summary>The gateway sample, hosted in-process on free loopback ports, as its Program wires it.</summary>
public sealed class TestGateway : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly string _directory;

    private TestGateway(IHost host, string directory, int port, int submissionPort, string spoolDirectory)
    {
        _host = host;
        _directory = directory;
        Port = port;
        SubmissionPort = submissionPort;
        SpoolDirectory = spoolDirectory;
    }

    /// <summary>The gateway's own spool folder (a new temp folder, unless the test named one).</summary>
    public string SpoolDirectory { get; }

    /// <summary>The files in the spool folder now (none when no message is being forwarded).</summary>
    public string[] SpoolFiles => Directory.Exists(SpoolDirectory) ? Directory.GetFiles(SpoolDirectory) : [];

    /// <summary>The MX endpoint's port.</summary>
    public int Port { get; }

    /// <summary>The submission endpoint's port.</summary>
    public int SubmissionPort { get; }

    /// <summary>The MX endpoint.</summary>
    public IPEndPoint EndPoint => new(IPAddress.Loopback, Port);

    /// <summary>Starts a gateway relaying for example.com to <paramref name="upstreamPort"/>, with the user alice:secret on submission.</summary>
    internal static async Task<TestGateway> StartAsync(int upstreamPort, UpstreamTlsMode tls = UpstreamTlsMode.None, string? upstreamCa = null,
        string upstreamHost = "127.0.0.1", string? spoolDirectory = null)
    {
        var port = FreePort();
        var submissionPort = FreePort();
        var directory = Path.Combine(Path.GetTempPath(), "gateway-tests-" + Guid.NewGuid().ToString("N"));
        var certificate = TestCertificates.WritePem(TestCertificates.IssueServer("localhost"), directory, "gw");
        if (spoolDirectory is null)
        {
            spoolDirectory = Path.Combine(directory, "spool");
            Directory.CreateDirectory(spoolDirectory);
        }
        var options = new GatewayOptions
        {
            Listen = "127.0.0.1:" + port,
            Submission = "127.0.0.1:" + submissionPort,
            UpstreamHost = upstreamHost,
            UpstreamPort = upstreamPort,
            UpstreamTls = tls,
            UpstreamCa = upstreamCa,
            RelayDomains = ["example.com"],
            Users = [new GatewayUser("alice", "secret")],
            HostName = "gw.test",
            Certificate = certificate.CertificatePath,
            Key = certificate.KeyPath,
            UpstreamTimeout = TimeSpan.FromSeconds(30),
            SpoolDirectory = spoolDirectory,
        };
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddGateway(options);
        var host = builder.Build();
        await host.StartAsync();
        return new TestGateway(host, directory, port, submissionPort, spoolDirectory);
    }

    /// <summary>Opens a raw connection to the MX endpoint and reads the greeting.</summary>
    public async Task<RawSmtpClient> ConnectAsync()
    {
        var client = await RawSmtpClient.ConnectAsync(EndPoint);
        (await client.ReadReplyAsync()).Should().StartWith("220 ");
        (await client.EhloAsync()).Should().StartWith("250");
        return client;
    }

    /// <summary>A loopback port that was free a moment ago.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _host.StopAsync(cts.Token);
        _host.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
