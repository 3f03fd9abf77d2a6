using System.IO.Pipelines;

namespace StartTls.Smtp.Transport;

/// <summary>
/// The pipe options for a connection's streams, plaintext and TLS alike: small buffers, and zero-byte reads so that an
/// idle connection holds no read buffer at all.
/// </summary>
internal static class StreamPipeSettings
{
    public static readonly StreamPipeReaderOptions Reader = new(bufferSize: 4096, minimumReadSize: 1024, leaveOpen: true, useZeroByteReads: true);

    public static readonly StreamPipeWriterOptions Writer = new(minimumBufferSize: 4096, leaveOpen: true);
}
