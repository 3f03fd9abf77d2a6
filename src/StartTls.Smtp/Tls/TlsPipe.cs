using System.IO.Pipelines;
using System.Net.Security;

namespace StartTls.Smtp.Tls;

/// <summary>The pipes of an encrypted session, and the <see cref="SslStream"/> under them.</summary>
internal sealed class TlsPipe(SslStream stream, IO.ZeroByteReadGate gate, PipeReader input, PipeWriter output) : IDuplexPipe, IO.IReadGateOwner, IAsyncDisposable
{
    public SslStream Stream { get; } = stream;

    public IO.ZeroByteReadGate ReadGate { get; } = gate;

    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;

    /// <summary>Sends close_notify (best effort) and releases the TLS session; the transport stays the caller's.</summary>
    public async ValueTask DisposeAsync()
    {
        await Input.CompleteAsync().ConfigureAwait(false);
        await Output.CompleteAsync().ConfigureAwait(false);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await Stream.ShutdownAsync().WaitAsync(timeout.Token).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The peer may be gone; closing goes on.
        catch (Exception)
#pragma warning restore CA1031
        {
        }

        await Stream.DisposeAsync().ConfigureAwait(false);
    }
}
