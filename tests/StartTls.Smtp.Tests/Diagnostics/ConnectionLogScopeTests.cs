using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Diagnostics;

/// <summary>Every event of a connection is written inside one scope carrying the session id and the client's address.</summary>
public sealed class ConnectionLogScopeTests
{
    private static Dictionary<string, object?> ScopeValues(FakeLogRecord record)
    {
        var values = new Dictionary<string, object?>();
        foreach (var scope in record.Scopes)
        {
            if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
            {
                foreach (var (key, value) in pairs)
                {
                    values[key] = value;
                }
            }
        }

        return values;
    }

    [Fact(Timeout = 30_000)]
    public async Task Events_inside_a_session_carry_the_session_id_and_remote_endpoint_from_the_scope()
    {
        using var provider = new FakeLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(provider));
        var storeLogger = loggerFactory.CreateLogger("App.Store");
        var store = new LoggingStore(storeLogger);
        IPEndPoint clientEndPoint;
        await using (var server = await TestServer.StartAsync(store: store, loggerFactory: loggerFactory))
        {
            await using var client = await server.ConnectAsync();
            clientEndPoint = (IPEndPoint)client.Socket.LocalEndPoint!;
            (await client.CommandAsync("EHLO client.test")).Should().StartWith("250");
            (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
            (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
            (await client.CommandAsync("DATA")).Should().StartWith("354");
            (await client.CommandAsync("Subject: scoped\r\n\r\nbody\r\n.")).Should().StartWith("250");
            (await client.CommandAsync("QUIT")).Should().StartWith("221");
        }

        var records = provider.Collector.GetSnapshot();
        var sessionId = store.SessionId;
        sessionId.Should().NotBeNullOrEmpty();

        var accepted = records.Should().ContainSingle(r => r.Id.Id == 30).Subject;
        accepted.Message.Should().Be("Message accepted: " + accepted.StructuredState!.Single(p => p.Key == "Size").Value + " octets for 1 recipient(s)");
        var scope = ScopeValues(accepted);
        scope["SessionId"].Should().Be(sessionId);
        scope["RemoteEndPoint"].Should().Be(clientEndPoint);

        // The application's own events, from its store, are in the same scope.
        ScopeValues(records.Should().ContainSingle(r => r.Category == "App.Store").Subject)["SessionId"].Should().Be(sessionId);

        // Opened and closed: the first and last events of the session are inside it too, and no message repeats the id.
        ScopeValues(records.Should().ContainSingle(r => r.Id.Id == 10).Subject)["SessionId"].Should().Be(sessionId);
        ScopeValues(records.Should().ContainSingle(r => r.Id.Id == 11).Subject)["SessionId"].Should().Be(sessionId);
        records.Should().NotContain(r => r.Message.Contains(sessionId, StringComparison.Ordinal));

        // Server-wide events are outside any session's scope.
        ScopeValues(records.Should().ContainSingle(r => r.Id.Id == 1).Subject).Should().NotContainKey("SessionId");
    }

    [Fact(Timeout = 30_000)]
    public async Task Behind_a_trusted_proxy_the_scope_names_the_client_not_the_proxy()
    {
        var proxy = new IPEndPoint(IPAddress.Parse("10.0.0.5"), 33000);
        var clientAddress = new IPEndPoint(IPAddress.Parse("192.0.2.10"), 51234);
        using var provider = new FakeLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.SetMinimumLevel(LogLevel.Debug).AddProvider(provider));
        await using (var server = await TestServer.StartAsync(o => o.ProxyProtocol.TrustedSources.Add("10.0.0.0/24"), loggerFactory: loggerFactory))
        {
            await using var client = PipeConnection.Start(server.Server, remote: proxy);
            await client.SendAsync(System.Text.Encoding.ASCII.GetBytes("PROXY TCP4 192.0.2.10 198.51.100.1 51234 25\r\n"));
            (await client.ReadReplyAsync()).Should().StartWith("220");
            await client.StartDataAsync();
            (await client.CommandAsync("Subject: hi\r\n\r\nhello\r\n.")).Should().StartWith("250");
            (await client.CommandAsync("QUIT")).Should().StartWith("221");
            await client.Session;
        }

        var accepted = provider.Collector.GetSnapshot().Should().ContainSingle(r => r.Id.Id == 30).Subject;
        ScopeValues(accepted)["RemoteEndPoint"].Should().Be(clientAddress, "logs use the proxied client's address (PROXY protocol)");
    }

    private sealed class LoggingStore(ILogger logger) : StartTls.Smtp.Storage.IMessageStore
    {
        public string? SessionId { get; private set; }

        public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
        {
            SessionId = session.Id;
            await content.CopyToAsync(Stream.Null, cancellationToken);
#pragma warning disable CA1848 // A test's one event.
            logger.LogInformation("stored");
#pragma warning restore CA1848
            return SmtpReply.MessageAccepted;
        }
    }
}
