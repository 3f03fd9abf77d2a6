using System.Net.Sockets;

namespace StartTls.Smtp.Transport;

/// <summary>
/// How long the accept loop waits after a failed accept. When the process is out of file descriptors (EMFILE), the
/// system is (ENFILE), or the kernel is out of buffers or memory (ENOBUFS, ENOMEM), accept fails at once on every call
/// until something is released; retrying at once spins a core and floods the log. The delay starts at
/// <see cref="Initial"/>, doubles with each failure in a row up to <see cref="Max"/>, and starts over after an accept
/// succeeds.
/// </summary>
internal sealed class AcceptBackoff
{
    /// <summary>The delay after the first failure in a row.</summary>
    public static readonly TimeSpan Initial = TimeSpan.FromMilliseconds(10);

    /// <summary>The longest delay: a server out of descriptors serves again at most this long after one is free.</summary>
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(1);

    private TimeSpan _next = Initial;

    /// <summary>
    /// True when <paramref name="error"/> is about the one pending connection (it was reset or aborted before we
    /// took it), so the next accept may succeed at once. Every other error, including the resource shortages
    /// (EMFILE and ENFILE are <see cref="SocketError.TooManyOpenSockets"/>, ENOBUFS is
    /// <see cref="SocketError.NoBufferSpaceAvailable"/>, ENOMEM has no mapping and is <see cref="SocketError.SocketError"/>)
    /// and the unknown ones, is waited out.
    /// </summary>
    /// <param name="error">The failed accept's <see cref="SocketException.SocketErrorCode"/>.</param>
    /// <returns>True to retry at once.</returns>
    public static bool IsAboutOneConnection(SocketError error)
        => error is SocketError.ConnectionAborted or SocketError.ConnectionReset or SocketError.Interrupted
            or SocketError.TimedOut or SocketError.NetworkDown or SocketError.NetworkUnreachable or SocketError.NetworkReset
            or SocketError.HostDown or SocketError.HostUnreachable;

    /// <summary>Returns the delay before the next accept, and doubles the one after.</summary>
    /// <returns>The delay.</returns>
    public TimeSpan Next()
    {
        var delay = _next;
        _next = delay * 2 >= Max ? Max : delay * 2;
        return delay;
    }

    /// <summary>Starts over after an accept succeeded.</summary>
    public void Reset() => _next = Initial;
}
