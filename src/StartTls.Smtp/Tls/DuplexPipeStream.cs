using System.Buffers;
using System.IO.Pipelines;

namespace StartTls.Smtp.Tls;

/// <summary>
/// A stream over the connection's transport pipes, for <see cref="System.Net.Security.SslStream"/> to read the
/// handshake and records from. It reads the very pipe the plaintext reader used, so no byte a fast client sent right
/// after our 220 can be lost between two readers (Kestrel's DuplexPipeStream idea).
/// </summary>
internal sealed class DuplexPipeStream : Stream
{
    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private Stream? _raw;
    private bool _readRaw;

    public DuplexPipeStream(PipeReader input, PipeWriter output)
    {
        _input = input;
        _output = output;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    /// <summary>
    /// Once the handshake is over, lets reads and writes go straight to <paramref name="raw"/>, the stream under the
    /// transport pipes: writes at once (every write through the pipe was flushed), reads as soon as the pipe holds no
    /// byte it already read from the network. That saves a copy and a pipe per record for the rest of the session.
    /// </summary>
    public void BypassPipesWhenDrained(Stream raw) => _raw = raw;

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_readRaw)
        {
            return _raw!.ReadAsync(buffer, cancellationToken);
        }

        if (_raw is not null)
        {
            if (_input.TryRead(out var pending))
            {
                var data = pending.Buffer;
                if (!data.IsEmpty)
                {
                    // Bytes that arrived with the end of the handshake: hand them over first.
                    var count = (int)Math.Min(data.Length, buffer.Length);
                    data.Slice(0, count).CopyTo(buffer.Span);
                    _input.AdvanceTo(data.GetPosition(count));
                    return ValueTask.FromResult(count);
                }

                _input.AdvanceTo(data.End);
                if (pending.IsCompleted)
                {
                    return ValueTask.FromResult(0);
                }
            }

            // The pipe holds nothing it read from the network: from here on the network is read directly.
            _readRaw = true;
            return _raw.ReadAsync(buffer, cancellationToken);
        }

        return ReadFromPipeAsync(buffer, cancellationToken);
    }

    private async ValueTask<int> ReadFromPipeAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _input.ReadAsync(cancellationToken).ConfigureAwait(false);
            var data = result.Buffer;
            if (result.IsCanceled)
            {
                _input.AdvanceTo(data.Start);
                throw new OperationCanceledException("The read was cancelled.");
            }

            if (!data.IsEmpty)
            {
                if (buffer.Length == 0)
                {
                    // A zero-byte read only waits for data (SslStream uses it to avoid holding a buffer).
                    _input.AdvanceTo(data.Start);
                    return 0;
                }

                var count = (int)Math.Min(data.Length, buffer.Length);
                data.Slice(0, count).CopyTo(buffer.Span);
                _input.AdvanceTo(data.GetPosition(count));
                return count;
            }

            _input.AdvanceTo(data.End);
            if (result.IsCompleted)
            {
                return 0;
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_raw is not null)
        {
            await _raw.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
            return;
        }

        var result = await _output.WriteAsync(buffer, cancellationToken).ConfigureAwait(false);
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("The write was cancelled.");
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        if (_raw is not null)
        {
            await _raw.FlushAsync(cancellationToken).ConfigureAwait(false);
            return;
        }

        var result = await _output.FlushAsync(cancellationToken).ConfigureAwait(false);
        if (result.IsCanceled)
        {
            throw new OperationCanceledException("The flush was cancelled.");
        }
    }

    public override void Flush() => FlushAsync(CancellationToken.None).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
