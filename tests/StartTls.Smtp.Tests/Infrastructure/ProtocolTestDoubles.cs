using System.Collections.Concurrent;
using System.Globalization;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>A mailbox filter made of two delegates; either may return any reply or throw.</summary>
public sealed class DelegateMailboxFilter : IMailboxFilter
{
    private readonly Func<SmtpEnvelope, SmtpReply> _sender;
    private readonly Func<SmtpRecipient, SmtpReply> _recipient;

    public DelegateMailboxFilter(Func<SmtpEnvelope, SmtpReply>? sender = null, Func<SmtpRecipient, SmtpReply>? recipient = null)
    {
        _sender = sender ?? (_ => SmtpReply.SenderOk);
        _recipient = recipient ?? (_ => SmtpReply.RecipientOk);
    }

    /// <summary>The culture the server thread had when it called the filter last.</summary>
    public string? LastCulture { get; private set; }

    public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken)
    {
        LastCulture = CultureInfo.CurrentCulture.Name;
        return ValueTask.FromResult(_sender(envelope));
    }

    public ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken)
    {
        LastCulture = CultureInfo.CurrentCulture.Name;
        return ValueTask.FromResult(_recipient(recipient));
    }
}

/// <summary>A store whose behaviour is one delegate over the content stream.</summary>
public sealed class DelegateMessageStore : IMessageStore
{
    private readonly Func<Stream, CancellationToken, Task<SmtpReply>> _save;
    private int _calls;

    public DelegateMessageStore(Func<Stream, CancellationToken, Task<SmtpReply>> save) => _save = save;

    public int Calls => Volatile.Read(ref _calls);

    /// <summary>Reads everything, then throws.</summary>
    public static DelegateMessageStore ThrowsAfterReading() => new(async (content, ct) =>
    {
        await content.CopyToAsync(Stream.Null, ct);
        throw new IOException("disk full");
    });

    /// <summary>Throws before reading anything.</summary>
    public static DelegateMessageStore ThrowsAtOnce() => new((_, _) => throw new InvalidOperationException("store broken"));

    /// <summary>Claims success without reading the content.</summary>
    public static DelegateMessageStore AcceptsWithoutReading() => new((_, _) => Task.FromResult(SmtpReply.MessageAccepted));

    /// <summary>Refuses at once, without reading.</summary>
    public static DelegateMessageStore RefusesAtOnce(SmtpReply reply) => new((_, _) => Task.FromResult(reply));

    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _calls);
        return await _save(content, cancellationToken);
    }
}

/// <summary>Runs tests in this collection alone: they measure memory, change process-wide culture, or run 1,000-iteration races.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class SerialTests
{
    public const string Name = "Serial (process-wide state)";
}
