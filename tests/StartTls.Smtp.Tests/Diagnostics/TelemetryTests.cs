using System.Diagnostics;
using System.Net;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using StartTls.Smtp.Diagnostics;
using StartTls.Smtp.Protocol;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Diagnostics;

/// <summary>
/// The spans and instruments as the OpenTelemetry SDK sees them (in-memory exporters). Serial: the SDK's listeners are
/// process-wide, and the zero-cost test needs none.
/// </summary>
[Collection(SerialTests.Name)]
public sealed class TelemetryTests
{
    private static readonly string[] SessionAttributes =
    [
        "network.protocol.name", "network.transport", "client.address", "client.port", "server.address", "server.port",
        "smtp.endpoint", "smtp.session.id", "tls.protocol.version", "tls.cipher", "smtp.authenticated", "smtp.session.messages",
    ];

    [Fact(Timeout = 60_000)]
    public async Task One_delivery_over_STARTTLS_is_one_session_span_and_one_transaction_span_with_their_attributes()
    {
        var endpoint = "otel-" + Guid.NewGuid().ToString("N")[..8];
        var spans = new List<Activity>();
        var port = 0;
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(SmtpTelemetry.ActivitySourceName).AddInMemoryExporter(spans).Build())
        {
            await using (var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(o => o.Endpoints[0].Name = endpoint)))
            {
                port = server.Port;
                var (raw, tls) = await server.ConnectWithStartTlsAsync();
                await using (raw)
                await using (tls)
                {
                    (await tls.EhloAsync()).Should().StartWith("250");
                    (await tls.CommandAsync("MAIL FROM:<alice@c.test>")).Should().StartWith("250");
                    (await tls.CommandAsync("RCPT TO:<bob@s.test>")).Should().StartWith("250");
                    (await tls.CommandAsync("RCPT TO:<carol@s.test>")).Should().StartWith("250");
                    (await tls.CommandAsync("DATA")).Should().StartWith("354");
                    (await tls.CommandAsync("Subject: secret subject\r\n\r\nsecret body\r\n.")).Should().StartWith("250");
                    (await tls.CommandAsync("QUIT")).Should().StartWith("221");
                }

                server.Messages.Messages.Should().ContainSingle();
            }

            // The server has stopped: every session ended, every span was exported; no more come once the provider is gone.
        }

        var mine = spans.Where(s => Equals(s.GetTagItem(SmtpTelemetry.EndpointTag), endpoint)).ToList();
        var session = mine.Should().ContainSingle(s => s.OperationName == "smtp.session").Subject;
        var transaction = mine.Should().ContainSingle(s => s.OperationName == "smtp.transaction").Subject;
        mine.Should().HaveCount(2);

        session.Kind.Should().Be(ActivityKind.Server);
        session.Parent.Should().BeNull();
        session.ParentSpanId.Should().Be(default(ActivitySpanId), "a session is the root of its own trace");
        session.Status.Should().Be(ActivityStatusCode.Unset);
        var tags = session.TagObjects.ToDictionary(t => t.Key, t => t.Value);
        tags.Keys.Should().Contain(SessionAttributes);
        tags["network.protocol.name"].Should().Be("smtp");
        tags["network.transport"].Should().Be("tcp");
        tags["client.address"].Should().Be("127.0.0.1");
        tags["client.port"].Should().BeOfType<int>().Which.Should().BePositive();
        tags["server.address"].Should().Be("mx.test", "the name the client asked for with SNI");
        tags["server.port"].Should().Be(port);
        tags["tls.protocol.version"].Should().BeOneOf("1.2", "1.3");
        ((string)tags["tls.cipher"]!).Should().StartWith("TLS_");
        tags["smtp.authenticated"].Should().Be(false);
        tags["smtp.session.messages"].Should().Be(1);
        tags.Should().NotContainKey("error.type");

        transaction.Kind.Should().Be(ActivityKind.Internal);
        transaction.TraceId.Should().Be(session.TraceId);
        transaction.ParentSpanId.Should().Be(session.SpanId);
        transaction.Status.Should().Be(ActivityStatusCode.Unset);
        var transactionTags = transaction.TagObjects.ToDictionary(t => t.Key, t => t.Value);
        transactionTags["smtp.message.recipients"].Should().Be(2);
        transactionTags["smtp.response.status_code"].Should().Be(250);
        transactionTags["smtp.message.size"].Should().BeOfType<long>().Which.Should().BePositive();
        transactionTags["smtp.authenticated"].Should().Be(false);

        // Never an address, a local part or content.
        var everything = string.Join("\n", mine.SelectMany(s => s.TagObjects).Select(t => t.Key + "=" + t.Value));
        foreach (var secret in new[] { "alice", "bob", "carol", "secret" })
        {
            everything.Should().NotContain(secret);
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_refused_message_and_a_client_gone_mid_DATA_mark_their_spans_with_error_type()
    {
        var endpoint = "otel-" + Guid.NewGuid().ToString("N")[..8];
        var spans = new List<Activity>();
        var store = new RefusingStore();
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(SmtpTelemetry.ActivitySourceName).AddInMemoryExporter(spans).Build())
        {
            await using var server = await TestServer.StartAsync(o => o.Endpoints[0].Name = endpoint, store);
            await using (var client = await server.ConnectAsync())
            {
                (await client.CommandAsync("EHLO client.test")).Should().StartWith("250");
                (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
                (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
                (await client.CommandAsync("DATA")).Should().StartWith("354");
                (await client.CommandAsync("Subject: x\r\n\r\nx\r\n.")).Should().StartWith("554");
                (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
                (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
                (await client.CommandAsync("DATA")).Should().StartWith("354");
                await client.SendAsync("Subject: cut\r\n\r\nhalf");
            }

            await server.DisposeAsync();
        }

        var mine = spans.Where(s => Equals(s.GetTagItem(SmtpTelemetry.EndpointTag), endpoint)).ToList();
        var transactions = mine.Where(s => s.OperationName == "smtp.transaction").ToList();
        transactions.Should().HaveCount(2);
        transactions[0].Status.Should().Be(ActivityStatusCode.Error);
        transactions[0].GetTagItem("error.type").Should().Be("554");
        transactions[0].GetTagItem("smtp.response.status_code").Should().Be(554);
        transactions[1].Status.Should().Be(ActivityStatusCode.Error);
        transactions[1].GetTagItem("error.type").Should().Be("disconnected");
        var session = mine.Should().ContainSingle(s => s.OperationName == "smtp.session").Subject;
        session.Status.Should().Be(ActivityStatusCode.Error);
        session.GetTagItem("error.type").Should().Be("disconnected");

        // The store runs inside its transaction's span, so its own spans (a database call) nest under it.
        store.CurrentAtSave.Should().HaveCount(2);
        store.CurrentAtSave.Should().Equal(transactions.Select(t => t.SpanId));
    }

    [Fact(Timeout = 60_000)]
    public async Task A_sender_refused_at_MAIL_marks_its_transaction_span_with_the_reply_code()
    {
        var endpoint = "otel-" + Guid.NewGuid().ToString("N")[..8];
        var spans = new List<Activity>();
        var filter = new DelegateMailboxFilter(sender: e => e.From?.LocalPart == "spammer" ? new SmtpReply(550, "5.7.1", "Sender refused") : SmtpReply.SenderOk);
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(SmtpTelemetry.ActivitySourceName).AddInMemoryExporter(spans).Build())
        {
            await using var server = await TestServer.StartAsync(o => o.Endpoints[0].Name = endpoint, filter: filter);
            await using (var client = await server.ConnectAsync())
            {
                (await client.CommandAsync("EHLO client.test")).Should().StartWith("250");
                (await client.CommandAsync("MAIL FROM:<spammer@c.test>")).Should().StartWith("550 5.7.1");
                (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
                (await client.CommandAsync("RSET")).Should().StartWith("250");
                (await client.CommandAsync("QUIT")).Should().StartWith("221");
            }

            await server.DisposeAsync();
        }

        var mine = spans.Where(s => Equals(s.GetTagItem(SmtpTelemetry.EndpointTag), endpoint)).ToList();
        var transactions = mine.Where(s => s.OperationName == "smtp.transaction").ToList();
        transactions.Should().HaveCount(2);
        transactions[0].Status.Should().Be(ActivityStatusCode.Error);
        transactions[0].GetTagItem("error.type").Should().Be("550");
        transactions[1].Status.Should().Be(ActivityStatusCode.Unset, "a transaction the client reset is not a failure");
        transactions[1].GetTagItem("error.type").Should().BeNull();
        mine.Should().ContainSingle(s => s.OperationName == "smtp.session").Which.Status.Should().Be(ActivityStatusCode.Unset);
        string.Join("\n", mine.SelectMany(s => s.TagObjects).Select(t => t.Key + "=" + t.Value)).Should().NotContain("spammer");
    }

    [Fact(Timeout = 60_000)]
    public async Task The_instruments_count_the_connection_and_the_message()
    {
        var endpoint = "otel-" + Guid.NewGuid().ToString("N")[..8];
        var metrics = new List<MetricSnapshot>();
        using (var meters = Sdk.CreateMeterProviderBuilder().AddMeter(SmtpTelemetry.MeterName).AddInMemoryExporter(metrics).Build())
        {
            await using (var server = await TestServer.StartAsync(o => o.Endpoints[0].Name = endpoint))
            {
                await using (var client = await server.ConnectAsync())
                {
                    (await client.CommandAsync("EHLO client.test")).Should().StartWith("250");
                    (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
                    (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
                    (await client.CommandAsync("DATA")).Should().StartWith("354");
                    (await client.CommandAsync("Subject: counted\r\n\r\nbody\r\n.")).Should().StartWith("250");
                    (await client.CommandAsync("QUIT")).Should().StartWith("221");
                }

                // Stopped: the session has ended and been counted; collected while the server's meter still exists.
                await server.Server.StopAsync();
                meters.ForceFlush().Should().BeTrue();
            }
        }

        long Sum(string name)
        {
            var last = metrics.LastOrDefault(m => m.Name == name);
            if (last is null)
            {
                return 0; // never measured
            }

            return last.MetricPoints
                .Where(p => HasTag(p, SmtpTelemetry.EndpointTag, endpoint))
                .Sum(p => last.MetricType is MetricType.LongSum or MetricType.LongSumNonMonotonic ? p.GetSumLong() : 0);
        }

        Sum("smtp.server.connections.accepted").Should().Be(1);
        Sum("smtp.server.connections.active").Should().Be(0);
        Sum("smtp.server.messages.accepted").Should().Be(1);
        Sum("smtp.server.messages.refused").Should().Be(0);
        Sum("smtp.server.messages.bytes").Should().BePositive();
        metrics.Last(m => m.Name == "smtp.server.messages.bytes").Unit.Should().Be("By");
    }

    [Fact]
    public void With_no_listener_the_spans_cost_nothing()
    {
        var session = new SmtpSession("zero", new IPEndPoint(IPAddress.Loopback, 40000), new IPEndPoint(IPAddress.Loopback, 25), DateTimeOffset.UnixEpoch);
        var endpoint = EndpointSettings.Plain;

        // Warm up (JIT, statics), then measure.
        Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        var activity = Run();
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        activity.Should().BeNull();
        allocated.Should().Be(0);

        Activity? Run()
        {
            var s = SmtpActivities.StartSession(session, endpoint);
            var t = SmtpActivities.StartTransaction(s, session, endpoint);
            SmtpActivities.MessageReplied(t, 451, 10);
            SmtpActivities.Fail(s, "timeout");
            SmtpActivities.StopTransaction(t, s);
            SmtpActivities.StopSession(s, session);
            return s ?? t;
        }
    }

    private static bool HasTag(MetricPoint point, string key, string value)
    {
        foreach (var tag in point.Tags)
        {
            if (tag.Key == key && Equals(tag.Value, value))
            {
                return true;
            }
        }

        return false;
    }

    private sealed class RefusingStore : StartTls.Smtp.Storage.IMessageStore
    {
        public List<ActivitySpanId> CurrentAtSave { get; } = [];

        public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
        {
            lock (CurrentAtSave)
            {
                CurrentAtSave.Add(Activity.Current?.SpanId ?? default);
            }

            await content.CopyToAsync(Stream.Null, cancellationToken);
            return SmtpReply.AccessDenied;
        }
    }
}
