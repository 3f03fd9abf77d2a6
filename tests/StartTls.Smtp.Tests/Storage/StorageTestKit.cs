using System.Net;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Tests.Storage;

/// <summary>Sessions, envelopes, content streams and temporary Maildirs for the storage tests.</summary>
internal static class StorageTestKit
{
    public static SmtpSession Session(
        string id = "s1",
        string? heloName = "client.example.org",
        EndPoint? remoteEndPoint = null,
        bool extended = true,
        int messageCount = 0)
        => new(id, remoteEndPoint ?? new IPEndPoint(IPAddress.Parse("192.0.2.1"), 40000), new IPEndPoint(IPAddress.Loopback, 25), DateTimeOffset.UtcNow)
        {
            HeloName = heloName,
            IsExtended = extended,
            MessageCount = messageCount,
        };

    public static SmtpEnvelope Envelope(string? from, params string[] recipients) => Envelope(from, isSmtpUtf8: false, recipients);

    public static SmtpEnvelope Envelope(string? from, bool isSmtpUtf8, params string[] recipients)
    {
        var envelope = new SmtpEnvelope(from is null ? null : Mailbox(from), new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase), null, SmtpBodyType.SevenBit, isSmtpUtf8);
        foreach (var recipient in recipients)
        {
            envelope.AddRecipient(new SmtpRecipient(Mailbox(recipient), new Dictionary<string, string?>()));
        }

        return envelope;
    }

    public static SmtpMailbox Mailbox(string address)
    {
        var at = address.LastIndexOf('@');
        return at < 0 ? new SmtpMailbox(address, string.Empty) : new SmtpMailbox(address[..at], address[(at + 1)..]);
    }

    /// <summary>Deterministic bytes covering every octet value.</summary>
    public static byte[] Bytes(int length, int seed = 1)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}

/// <summary>A temporary directory under the system temp path, deleted on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "starttls-smtp-tests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Maildir => System.IO.Path.Combine(Path, "Maildir");

    public string[] Files(string subdirectory) => Directory.GetFiles(System.IO.Path.Combine(Maildir, subdirectory));

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>A TimeProvider frozen at one instant, in one time zone.</summary>
internal sealed class FixedTimeProvider(DateTimeOffset utcNow, TimeZoneInfo? zone = null) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => utcNow;

    public override TimeZoneInfo LocalTimeZone => zone ?? TimeZoneInfo.Utc;
}

/// <summary>
/// A content stream like the server's: returns the content in pieces of varying size, then either ends,
/// throws after a number of bytes, or waits there until the read's token is cancelled.
/// </summary>
internal sealed class ScriptedContentStream : Stream
{
    private readonly byte[] _content;
    private readonly long _failAfter;
    private readonly Exception? _failure;
    private readonly bool _hangAtFailurePoint;
    private readonly Random _random = new(7);
    private int _position;

    public ScriptedContentStream(byte[] content, long failAfter = long.MaxValue, Exception? failure = null, bool hangAtFailurePoint = false)
    {
        _content = content;
        _failAfter = failAfter;
        _failure = failure;
        _hangAtFailurePoint = hangAtFailurePoint;
    }

    /// <summary>True once a read returned 0.</summary>
    public bool ReachedEnd { get; private set; }

    /// <summary>Called when a read is about to return 0 (the end of the content).</summary>
    public Action? OnEnd { get; init; }

    /// <summary>Set once a read is waiting at the failure point.</summary>
    public TaskCompletionSource Waiting { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await Task.Yield();
        if (_position >= _failAfter)
        {
            if (_hangAtFailurePoint)
            {
                Waiting.TrySetResult();
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }

            throw _failure ?? new MessageAbortedException();
        }

        var remaining = _content.Length - _position;
        if (remaining == 0)
        {
            ReachedEnd = true;
            OnEnd?.Invoke();
            return 0;
        }

        var count = Math.Min(Math.Min(remaining, buffer.Length), _random.Next(1, 9000));
        count = (int)Math.Min(count, _failAfter - _position);
        _content.AsSpan(_position, count).CopyTo(buffer.Span);
        _position += count;
        return count;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
