using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>A Maildir under a fresh temporary directory, deleted on dispose.</summary>
public sealed class TempMaildir : IDisposable
{
    public TempMaildir()
    {
        Root = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "starttls-smtp-it-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string Path => System.IO.Path.Combine(Root, "Maildir");

    public string[] New => Files("new");

    public string[] Tmp => Files("tmp");

    /// <summary>A Maildir store writing here, without trace headers so stored bytes equal the content sent.</summary>
    public MaildirMessageStore CreateStore(bool addTraceHeaders = false)
        => new(new MaildirStoreOptions { Path = Path, AddTraceHeaders = addTraceHeaders, ServerName = "mx.test" });

    public string[] Files(string subdirectory)
    {
        var directory = System.IO.Path.Combine(Path, subdirectory);
        return Directory.Exists(directory) ? Directory.GetFiles(directory) : [];
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>A mailbox filter that accepts every sender and decides each recipient with a function (null = accept).</summary>
public sealed class RecipientRuleFilter(Func<SmtpRecipient, SmtpReply?> checkRecipient) : IMailboxFilter
{
    public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken)
        => ValueTask.FromResult(SmtpReply.SenderOk);

    public ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken)
        => ValueTask.FromResult(checkRecipient(recipient) ?? SmtpReply.RecipientOk);
}

/// <summary>
/// Wraps a store and watches it: when the first content bytes were read, and how each SaveAsync ended.
/// Optionally makes the content fail after some bytes (a disk failing mid-message) or delays the reply.
/// </summary>
public sealed class ObservedStore(IMessageStore inner) : IMessageStore
{
    private readonly ConcurrentQueue<long> _completedAt = new();

    /// <summary>When set, reading the content throws an <see cref="IOException"/> once this many bytes were read.</summary>
    public long? FailAfterBytes { get; init; }

    /// <summary>Waits this long after the inner store returned, before returning its reply.</summary>
    public TimeSpan DelayAfterSave { get; init; }

    /// <summary>Completed once the inner store has read the first bytes of a message.</summary>
    public TaskCompletionSource FirstBytesRead { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completed with the outcome of the first SaveAsync (the reply, or the exception it threw).</summary>
    public TaskCompletionSource<object> FirstOutcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary><see cref="Stopwatch.GetTimestamp"/> at the moment each SaveAsync returned a reply.</summary>
    public IReadOnlyCollection<long> CompletedAt => _completedAt;

    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        var watched = new WatchedStream(content, this);
        try
        {
            var reply = await inner.SaveAsync(session, envelope, watched, cancellationToken);
            if (DelayAfterSave > TimeSpan.Zero)
            {
                await Task.Delay(DelayAfterSave, cancellationToken);
            }

            _completedAt.Enqueue(Stopwatch.GetTimestamp());
            FirstOutcome.TrySetResult(reply);
            return reply;
        }
        catch (Exception ex)
        {
            FirstOutcome.TrySetResult(ex);
            throw;
        }
    }

    private sealed class WatchedStream(Stream inner, ObservedStore owner) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (owner.FailAfterBytes is { } limit && _read >= limit)
            {
                throw new IOException("Simulated disk failure while writing the message.");
            }

            if (owner.FailAfterBytes is { } max && buffer.Length > max - _read)
            {
                buffer = buffer[..(int)(max - _read)];
            }

            var read = await inner.ReadAsync(buffer, cancellationToken);
            _read += read;
            if (read > 0)
            {
                owner.FirstBytesRead.TrySetResult();
            }

            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>SMTP wire helpers for raw clients.</summary>
public static class SmtpWire
{
    /// <summary>Dot-stuffs content (which must be empty or end with CRLF) and appends the terminator.</summary>
    public static byte[] ToDataBlock(ReadOnlySpan<byte> content)
    {
        var output = new MemoryStream(content.Length + content.Length / 50 + 8);
        var lineStart = true;
        foreach (var b in content)
        {
            if (lineStart && b == (byte)'.')
            {
                output.WriteByte((byte)'.');
            }

            output.WriteByte(b);
            lineStart = b == (byte)'\n';
        }

        output.Write(".\r\n"u8);
        return output.ToArray();
    }

    /// <summary>
    /// Sends one message as a pipelined group (MAIL, RCPT, DATA), checks the replies, sends the content and
    /// returns the reply to the end of DATA.
    /// </summary>
    public static async Task<string> SendMessageAsync(RawSmtpClient client, string from, string to, byte[] content, string mailParameters = "")
    {
        await client.SendAsync($"MAIL FROM:<{from}>{mailParameters}\r\nRCPT TO:<{to}>\r\nDATA\r\n");
        var replies = await client.ReadRepliesAsync(3);
        replies[0].Should().StartWith("250 ", "MAIL FROM is accepted");
        replies[1].Should().StartWith("250 ", "RCPT TO is accepted");
        replies[2].Should().StartWith("354", "DATA is accepted");
        await client.SendAsync(ToDataBlock(content));
        return await client.ReadReplyAsync();
    }

    public static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);
}
