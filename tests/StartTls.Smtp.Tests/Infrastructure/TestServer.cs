using System.Net;
using Microsoft.Extensions.Logging;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>A real server on a free loopback port, with an in-memory store unless another is given.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(SmtpServer server, IMessageStore store, SmtpServerOptions options)
    {
        Server = server;
        Store = store;
        Options = options;
    }

    public SmtpServer Server { get; }

    public IMessageStore Store { get; }

    public SmtpServerOptions Options { get; }

    /// <summary>The in-memory store, when the server was started with the default store.</summary>
    public InMemoryMessageStore Messages => (InMemoryMessageStore)Store;

    public IPEndPoint EndPoint => Server.ListeningEndPoints[0];

    public int Port => EndPoint.Port;

    public static async Task<TestServer> StartAsync(Action<SmtpServerOptions>? configure = null, IMessageStore? store = null,
        IMailboxFilter? filter = null, ISessionHandler? sessionHandler = null, ILoggerFactory? loggerFactory = null,
        TimeProvider? timeProvider = null, System.Diagnostics.Metrics.IMeterFactory? meterFactory = null)
    {
        var options = new SmtpServerOptions { ServerName = "mx.test" };
        options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" });
        configure?.Invoke(options);
        store ??= new InMemoryMessageStore();
        var server = new SmtpServer(options, store, filter, sessionHandler, loggerFactory, timeProvider, meterFactory);
        await server.StartAsync();
        return new TestServer(server, store, options);
    }

    /// <summary>Opens a raw connection and reads the greeting.</summary>
    public async Task<RawSmtpClient> ConnectAsync(bool readGreeting = true)
    {
        var client = await RawSmtpClient.ConnectAsync(EndPoint);
        if (readGreeting)
        {
            var greeting = await client.ReadReplyAsync();
            greeting.Should().StartWith("220 ");
        }

        return client;
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await Server.StopAsync(cts.Token);
        await Server.DisposeAsync();
    }
}
