using System.Threading.Channels;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Gateway.Tests.Infrastructure;

/// <summary>The upstream's policy in tests: refuses nobody@… at RCPT, counts MAIL commands, reports each transaction's end.</summary>
public sealed class UpstreamFilter : IMailboxFilter, ITransactionEndHook
{
    private readonly Channel<SmtpTransactionEndReason> _ends = Channel.CreateUnbounded<SmtpTransactionEndReason>();
    private int _senders;

    /// <summary>How many MAIL commands the upstream saw.</summary>
    public int Senders => Volatile.Read(ref _senders);

    public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _senders);
        return ValueTask.FromResult(SmtpReply.SenderOk);
    }

    public ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken)
        => ValueTask.FromResult(recipient.Mailbox.LocalPart == "nobody" ? new SmtpReply(550, "5.1.1", "No such user here") : SmtpReply.RecipientOk);

    public ValueTask OnTransactionEndedAsync(SmtpTransaction transaction, SmtpTransactionEndReason reason)
    {
        _ends.Writer.TryWrite(reason);
        return ValueTask.CompletedTask;
    }

    /// <summary>Waits for the next transaction the upstream saw end, and returns why it ended.</summary>
    public async Task<SmtpTransactionEndReason> NextTransactionEndAsync()
    {
        using var timeout = new CancellationTokenSource(Eventually.DefaultTimeout);
        return await _ends.Reader.ReadAsync(timeout.Token);
    }
}

/// <summary>The upstream's store in tests: refuses content with an "X-Reject: yes" header (554 5.7.1), keeps the rest in memory.</summary>
public sealed class UpstreamStore : IMessageStore
{
    public InMemoryMessageStore Messages { get; } = new();

    /// <summary>Runs when the upstream starts storing a message, while the gateway is still forwarding it.</summary>
    public Action? WhileForwarding { get; set; }

    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        WhileForwarding?.Invoke();
        using var copy = new MemoryStream();
        await content.CopyToAsync(copy, cancellationToken);
        if (System.Text.Encoding.UTF8.GetString(copy.ToArray()).Contains("X-Reject: yes", StringComparison.Ordinal))
        {
            return new SmtpReply(554, "5.7.1", "Content refused upstream");
        }

        copy.Position = 0;
        return await Messages.SaveAsync(session, envelope, copy, cancellationToken);
    }
}

/// <summary>Our own server as the gateway's upstream: <see cref="UpstreamFilter"/> and <see cref="UpstreamStore"/> on a free port.</summary>
public sealed class Upstream : IAsyncDisposable
{
    private Upstream(TestServer server, UpstreamFilter filter, UpstreamStore store)
    {
        Server = server;
        Filter = filter;
        Store = store;
    }

    public TestServer Server { get; }

    public UpstreamFilter Filter { get; }

    public UpstreamStore Store { get; }

    public InMemoryMessageStore Messages => Store.Messages;

    public int Port => Server.Port;

    public static async Task<Upstream> StartAsync(Action<SmtpServerOptions>? configure = null)
    {
        var filter = new UpstreamFilter();
        var store = new UpstreamStore();
        var server = await TestServer.StartAsync(o =>
        {
            o.ServerName = "upstream.test";
            configure?.Invoke(o);
        }, store, filter);
        return new Upstream(server, filter, store);
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
