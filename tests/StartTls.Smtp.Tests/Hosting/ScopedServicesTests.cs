using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Hosting;

/// <summary>
/// Scoped extension points under AddSmtpServer: a DI scope per session (session handler) and one per mail transaction
/// (filter, store), with a real EF Core DbContext on SQLite, in Development (scope validation on) and Production.
/// </summary>
public sealed class ScopedServicesTests : IDisposable
{
    private readonly string _database = Path.Combine(Path.GetTempPath(), "starttls-scopes-" + Guid.NewGuid().ToString("N") + ".db");

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(_database);
    }

    private (IHost Host, ScopeTracker Tracker) CreateHost(string environment)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = environment,
        });
        builder.Logging.ClearProviders();
        var tracker = new ScopeTracker();
        builder.Services.AddSingleton(tracker);
        builder.Services.AddDbContext<MailDb>(o => o.UseSqlite("Data Source=" + _database));
        builder.Services
            .AddSmtpServer(o =>
            {
                o.ServerName = "mx.scoped.test";
                o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" });
            })
            .UseMessageStore<DbMessageStore>(ServiceLifetime.Scoped)
            .UseMailboxFilter<DbMailboxFilter>(ServiceLifetime.Scoped)
            .UseSessionHandler<DbSessionHandler>(ServiceLifetime.Scoped);

        var host = builder.Build();
        using (var scope = host.Services.CreateScope())
        {
            scope.ServiceProvider.GetRequiredService<MailDb>().Database.EnsureCreated();
        }

        tracker.Reset();

        return (host, tracker);
    }

    private static async Task<RawSmtpClient> ConnectAsync(IHost host)
    {
        var server = host.Services.GetRequiredService<SmtpServer>();
        var client = await RawSmtpClient.ConnectAsync(server.ListeningEndPoints[0]);
        (await client.ReadReplyAsync()).Should().StartWith("220 ");
        (await client.CommandAsync("EHLO client.test")).Should().StartWith("250");
        return client;
    }

    private static async Task SendMessageAsync(RawSmtpClient client, string subject)
    {
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<c@s.test>")).Should().StartWith("250");
        (await client.CommandAsync("DATA")).Should().StartWith("354");
        (await client.CommandAsync("Subject: " + subject + "\r\n\r\nBody.\r\n.")).Should().StartWith("250");
    }

    [Theory(Timeout = 60_000)]
    [InlineData("Development")]
    [InlineData("Production")]
    public async Task Scoped_store_filter_and_handler_get_a_DbContext_per_transaction_and_per_session(string environment)
    {
        var (host, tracker) = CreateHost(environment);
        using var _ = host;
        await host.StartAsync();
        try
        {
            await using (var client = await ConnectAsync(host))
            {
                await SendMessageAsync(client, "first");
                await SendMessageAsync(client, "second");
                (await client.CommandAsync("QUIT")).Should().StartWith("221");
            }

            // One session scope and two transaction scopes, each with its own context, all disposed.
            await tracker.WaitForDisposalsAsync(3).WaitAsync(TimeSpan.FromSeconds(20));

            var first = tracker.ContextOf("store#0");
            var second = tracker.ContextOf("store#1");
            var session = tracker.ContextOf("handler-connected");
            first.Should().NotBe(second, "each transaction has a scope of its own");
            tracker.ContextOf("filter-mail#0").Should().Be(first, "the filter and the store of one transaction share its scope");
            tracker.ContextOf("filter-mail#1").Should().Be(second);
            tracker.Uses.Where(u => u.Who == "filter-rcpt#0").Select(u => u.Context).Should().AllBeEquivalentTo(first).And.HaveCount(2);
            tracker.ContextOf("handler-closed").Should().Be(session, "the handler has one scope for the whole session");
            session.Should().NotBe(first).And.NotBe(second);

            tracker.CreatedContexts.Should().BeEquivalentTo([session, first, second]);
            tracker.DisposedContexts.Should().BeEquivalentTo(tracker.CreatedContexts);

            await using var check = host.Services.CreateAsyncScope();
            var rows = await check.ServiceProvider.GetRequiredService<MailDb>().Messages.OrderBy(m => m.Id).ToListAsync();
            rows.Select(r => r.DbContextId).Should().Equal(first, second);
            rows.Should().AllSatisfy(r => r.Recipients.Should().Be(2));
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_transaction_that_ends_without_DATA_disposes_its_scope_when_the_sender_is_refused_and_at_RSET()
    {
        var (host, tracker) = CreateHost("Development");
        using var _ = host;
        await host.StartAsync();
        try
        {
            await using (var client = await ConnectAsync(host))
            {
                // A refused sender opens no transaction: its scope goes at once.
                (await client.CommandAsync("MAIL FROM:<x@refused.test>")).Should().StartWith("554");
                await tracker.WaitForDisposalsAsync(1).WaitAsync(TimeSpan.FromSeconds(20));
                tracker.DisposedContexts.Should().Equal(tracker.ContextOf("filter-refused-sender"));

                (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
                (await client.CommandAsync("RCPT TO:<x@refused.test>")).Should().StartWith("550");
                (await client.CommandAsync("RSET")).Should().StartWith("250");

                // The RSET transaction's scope is gone while the session goes on.
                await tracker.WaitForDisposalsAsync(2).WaitAsync(TimeSpan.FromSeconds(20));
                tracker.DisposedContexts.Should().Contain(tracker.ContextOf("filter-mail#0")).And.HaveCount(2);

                // A new transaction gets a new filter (one that saw a MAIL refuses another) and a new context.
                await SendMessageAsync(client, "after rset");
                (await client.CommandAsync("QUIT")).Should().StartWith("221");
            }

            // The session's scope and three transactions' scopes, all disposed.
            await tracker.WaitForDisposalsAsync(4).WaitAsync(TimeSpan.FromSeconds(20));
            tracker.CreatedContexts.Should().HaveCount(4);
            tracker.DisposedContexts.Should().BeEquivalentTo(tracker.CreatedContexts);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task A_client_gone_mid_DATA_disposes_the_transaction_and_session_scopes_and_stores_nothing()
    {
        var (host, tracker) = CreateHost("Development");
        using var _ = host;
        await host.StartAsync();
        try
        {
            await using (var client = await ConnectAsync(host))
            {
                (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
                (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
                (await client.CommandAsync("DATA")).Should().StartWith("354");
                await client.SendAsync("Subject: cut\r\n\r\nhalf a message");
                await tracker.StoreStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));
            }

            await tracker.WaitForDisposalsAsync(2).WaitAsync(TimeSpan.FromSeconds(20));
            tracker.DisposedContexts.Should().BeEquivalentTo(tracker.CreatedContexts).And.HaveCount(2);
            tracker.Uses.Should().Contain(u => u.Who == "handler-closed");

            await using var check = host.Services.CreateAsyncScope();
            (await check.ServiceProvider.GetRequiredService<MailDb>().Messages.CountAsync()).Should().Be(0);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Stopping_the_server_mid_DATA_disposes_the_transaction_and_session_scopes()
    {
        var (host, tracker) = CreateHost("Development");
        using var _ = host;
        await host.StartAsync();
        try
        {
            await using var client = await ConnectAsync(host);
            (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
            (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
            (await client.CommandAsync("DATA")).Should().StartWith("354");
            await client.SendAsync("Subject: stopped\r\n\r\nhalf a message");
            await tracker.StoreStarted.Task.WaitAsync(TimeSpan.FromSeconds(20));

            // A cancelled token: no grace period, the session is aborted at once.
            await host.Services.GetRequiredService<SmtpServer>().StopAsync(new CancellationToken(canceled: true));

            await tracker.WaitForDisposalsAsync(2).WaitAsync(TimeSpan.FromSeconds(20));
            tracker.DisposedContexts.Should().BeEquivalentTo(tracker.CreatedContexts).And.HaveCount(2);
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Singletons_are_resolved_once_and_shared_by_every_session()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Development" });
        builder.Logging.ClearProviders();
        var store = new StartTls.Smtp.Storage.InMemoryMessageStore();
        builder.Services.AddSmtpServer(o => o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" }))
            .UseMessageStore(store)
            .UseMailboxFilter<CountingFilter>();
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            for (var i = 0; i < 2; i++)
            {
                await using var client = await ConnectAsync(host);
                await SendMessageAsync(client, "singleton " + i);
            }

            store.Messages.Should().HaveCount(2);
            CountingFilter.Instances.Should().Be(1);
            store.Messages.Should().AllSatisfy(m => m.SessionId.Should().NotBeNullOrEmpty());
        }
        finally
        {
            await host.StopAsync();
        }
    }

    private sealed class CountingFilter : IMailboxFilter
    {
        private static int s_instances;

        public CountingFilter() => Interlocked.Increment(ref s_instances);

        public static int Instances => Volatile.Read(ref s_instances);

        public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken)
            => ValueTask.FromResult(session.Services is null ? SmtpReply.TemporaryFailure : SmtpReply.SenderOk);

        public ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken)
            => ValueTask.FromResult(SmtpReply.RecipientOk);
    }

    [Fact(Timeout = 60_000)]
    public async Task A_scoped_store_that_cannot_be_created_is_a_failing_store_451_and_the_session_goes_on()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Development" });
        builder.Logging.ClearProviders();
        builder.Services.AddSmtpServer(o => o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" }))
            .UseMessageStore<UnbuildableStore>(ServiceLifetime.Scoped)
            .UseSessionHandler<UnbuildableHandler>(ServiceLifetime.Transient);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var server = host.Services.GetRequiredService<SmtpServer>();
            await using var client = await RawSmtpClient.ConnectAsync(server.ListeningEndPoints[0]);

            // The handler cannot be created: the hook failed, so the connection gets 421 instead of the greeting.
            (await client.ReadReplyAsync()).Should().StartWith("421 4.3.0");
        }
        finally
        {
            await host.StopAsync();
        }

        var storeOnly = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Development" });
        storeOnly.Logging.ClearProviders();
        storeOnly.Services.AddSmtpServer(o => o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" }))
            .UseMessageStore<UnbuildableStore>(ServiceLifetime.Scoped);
        using var second = storeOnly.Build();
        await second.StartAsync();
        try
        {
            await using var client = await ConnectAsync(second);
            (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
            (await client.CommandAsync("RCPT TO:<b@s.test>")).Should().StartWith("250");
            (await client.CommandAsync("DATA")).Should().StartWith("354");
            (await client.CommandAsync("Subject: x\r\n\r\nx\r\n.")).Should().StartWith("451");
            (await client.CommandAsync("NOOP")).Should().StartWith("250");
        }
        finally
        {
            await second.StopAsync();
        }
    }

    private sealed class UnbuildableStore : StartTls.Smtp.Storage.IMessageStore
    {
        public UnbuildableStore() => throw new InvalidOperationException("no database");

        public ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
            => throw new NotSupportedException();
    }

    private sealed class UnbuildableHandler : ISessionHandler
    {
        public UnbuildableHandler() => throw new InvalidOperationException("no database");

        public ValueTask<SmtpReply?> OnConnectedAsync(SmtpSession session, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask OnClosedAsync(SmtpSession session) => throw new NotSupportedException();
    }
}
