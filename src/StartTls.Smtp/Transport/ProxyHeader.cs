using System.Net;

namespace StartTls.Smtp.Transport;

/// <summary>
/// What a PROXY protocol header said: the client's and the proxy's addresses as the proxy saw them, or nothing
/// (<see cref="IsLocal"/>: a health check, <c>UNKNOWN</c>, or an address family other than IPv4 and IPv6), when the
/// connection's own addresses stand.
/// </summary>
/// <param name="Source">The client's address and port; <see langword="null"/> when <see cref="IsLocal"/>.</param>
/// <param name="Destination">The address and port the client connected to; <see langword="null"/> when <see cref="IsLocal"/>.</param>
/// <param name="Version">1 (text) or 2 (binary).</param>
internal readonly record struct ProxyHeader(IPEndPoint? Source, IPEndPoint? Destination, int Version)
{
    /// <summary>True when the header carries no usable address: the connection's real endpoints are used.</summary>
    public bool IsLocal => Source is null;
}
