using System.IO.Pipelines;

namespace StartTls.Smtp.IO;

/// <summary>
/// The pipe options for a connection's streams, plaintext and TLS alike: zero-byte reads so that an idle connection
/// holds no read buffer at all (see <see cref="ZeroByteReadGate"/> for when they are skipped).
/// </summary>
internal static class StreamPipeSettings
{
    // 16 KB reads: message content comes in few system calls, and zero-byte reads keep idle connections bufferless.
    public static readonly StreamPipeReaderOptions Reader = new(bufferSize: 16 * 1024, minimumReadSize: 2048, leaveOpen: true, useZeroByteReads: true);

    public static readonly StreamPipeWriterOptions Writer = new(minimumBufferSize: 4096, leaveOpen: true);
}
