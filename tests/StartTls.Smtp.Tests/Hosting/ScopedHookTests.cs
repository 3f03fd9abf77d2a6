using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Hosting;

/// <summary>A scoped service that names its scope in the log and says when the scope disposes it.</summary>
public sealed class ScopeMarker(HookLog log) : IAsyncDisposable
{
    public string Id { get; } = Guid.NewGuid().ToString("N")[..8];

    public ValueTask DisposeAsync()
    {
        log.Add("disposed " + Id);
        return default;
    }
}

/// <summary>A scoped session handler with the greeting hook, naming the scope it was created in.</summary>
public sealed class ScopedGreetingHandler(ScopeMarker marker, HookLog log) : ISessionHandler, IGreetingHook
{
    public ValueTask<SmtpReply?> OnConnectedAsync(SmtpSession session, CancellationToken cancellationToken)
    {
        log.Add("connected " + marker.Id);
        return default;
    }

    public ValueTask OnClosedAsync(SmtpSession session)
    {
        log.Add("closed " + marker.Id);
        log.SignalClosed();
        return default;
    }

    public ValueTask<SmtpReply?> OnGreetingAsync(SmtpSession session, CancellationToken cancellationToken)
    {
        log.Add("greeting " + marker.Id);
        return default;
    }
}

/// <summary>A scoped filter with the transaction hooks, naming the scope it was created in and the one the session's services point to.</summary>
public sealed class ScopedTransactionFilter(ScopeMarker marker, HookLog log) : IMailboxFilter, IMessageStartHook, IMessageVerdictHook, ITransactionEndHook
{
    private string Where(SmtpSession session) => marker.Id + (session.Services!.GetRequiredService<ScopeMarker>() == marker ? " in-scope" : " OTHER-SCOPE");

    public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken)
    {
        log.Add("mail " + Where(session));
        return new(SmtpReply.SenderOk);
    }

    public ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken)
        => new(SmtpReply.RecipientOk);

    public ValueTask<SmtpReply?> OnMessageStartingAsync(SmtpTransaction transaction, CancellationToken cancellationToken)
    {
        log.Add("start " + Where(transaction.Session));
        return default;
    }

    public ValueTask<SmtpReply> OnMessageReceivedAsync(SmtpTransaction transaction, SmtpReply storeReply, CancellationToken cancellationToken)
    {
        log.Add("verdict " + Where(transaction.Session));
        return new(storeReply);
    }

    public ValueTask OnTransactionEndedAsync(SmtpTransaction transaction, SmtpTransactionEndReason reason)
    {
        log.Add($"end {reason} " + Where(transaction.Session));
        return default;
    }
}

/// <summary>The hooks under AddSmtpServer: the greeting hook in the session's scope, the transaction hooks in each transaction's.</summary>
public sealed class ScopedHookTests
{
    [Fact(Timeout = 60_000)]
    public async Task Hooks_of_scoped_services_run_in_their_scopes_and_the_end_hook_before_the_scope_is_disposed()
    {
        var log = new HookLog();
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = "Development", ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(log);
        builder.Services.AddScoped<ScopeMarker>();
        builder.Services
            .AddSmtpServer(o =>
            {
                o.ServerName = "mx.hooks.test";
                o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" });
            })
            .UseMessageStore(new RecordingStore(log))
            .UseMailboxFilter<ScopedTransactionFilter>(ServiceLifetime.Scoped)
            .UseSessionHandler<ScopedGreetingHandler>(ServiceLifetime.Scoped);
        using var host = builder.Build();
        await host.StartAsync();
        try
        {
            var server = host.Services.GetRequiredService<SmtpServer>();
            await using (var client = await RawSmtpClient.ConnectAsync(server.ListeningEndPoints[0]))
            {
                (await client.ReadReplyAsync()).Should().StartWith("220");
                (await client.EhloAsync()).Should().StartWith("250");
                for (var i = 0; i < 2; i++)
                {
                    await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\n");
                    await client.ReadRepliesAsync(2);
                    (await client.CommandAsync("DATA")).Should().StartWith("354");
                    (await client.CommandCodeAsync("x\r\n.")).Should().Be("250 2.0.0");
                }

                (await client.CommandAsync("QUIT")).Should().StartWith("221");
            }

            await log.Closed;
        }
        finally
        {
            await host.StopAsync();
        }

        var events = log.Events.ToArray();
        events.Should().NotContain(e => e.Contains("OTHER-SCOPE", StringComparison.Ordinal), "SmtpSession.Services is the transaction's scope in every transaction hook");
        var session = events[0]["connected ".Length..];
        events[1].Should().Be("greeting " + session, "the greeting hook is the session-scoped handler's");
        var transactions = events.Where(e => e.StartsWith("mail ", StringComparison.Ordinal)).Select(e => e.Split(' ')[1]).ToArray();
        transactions.Should().HaveCount(2).And.OnlyHaveUniqueItems().And.NotContain(session);
        foreach (var id in transactions)
        {
            events.Where(e => e.Contains(id, StringComparison.Ordinal)).Should().Equal(
                $"mail {id} in-scope", $"start {id} in-scope", $"verdict {id} in-scope", $"end Completed {id} in-scope", "disposed " + id);
        }
    }
}
