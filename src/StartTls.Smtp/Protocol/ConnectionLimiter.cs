using System.Collections.Concurrent;
using System.Net;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// Counts open connections overall and per remote address, refuses those over the limits, and says when the server
/// is under stress (more connections than the stress share of the limit), whatever transport they came by.
/// </summary>
internal sealed class ConnectionLimiter
{
    private readonly int _maxConnections;
    private readonly int _maxPerAddress;
    private readonly int _stressAbove;
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private int _total;

    /// <param name="maxConnections">Connections served at once.</param>
    /// <param name="maxPerAddress">Connections from one address at once; 0 for no limit.</param>
    /// <param name="stressThreshold">The share of <paramref name="maxConnections"/> above which the server is under stress; 0 for never.</param>
    public ConnectionLimiter(int maxConnections, int maxPerAddress, double stressThreshold = 0)
    {
        _maxConnections = maxConnections;
        _maxPerAddress = maxPerAddress;
        _stressAbove = stressThreshold > 0 ? (int)Math.Floor(stressThreshold * maxConnections) : int.MaxValue;
    }

    /// <summary>True while more connections are open than the stress share of the limit.</summary>
    public bool UnderStress => Volatile.Read(ref _total) > _stressAbove;

    /// <summary>Takes a slot for <paramref name="address"/>, or says which limit refused it.</summary>
    public LimitResult TryAcquire(IPAddress? address)
    {
        if (Interlocked.Increment(ref _total) > _maxConnections)
        {
            Interlocked.Decrement(ref _total);
            return LimitResult.TooManyConnections;
        }

        if (_maxPerAddress > 0 && address is not null)
        {
            var count = _perAddress.AddOrUpdate(Normalize(address), 1, static (_, n) => n + 1);
            if (count > _maxPerAddress)
            {
                Release(address);
                return LimitResult.TooManyFromAddress;
            }
        }

        return LimitResult.Accepted;
    }

    /// <summary>Gives back the slot taken for <paramref name="address"/>.</summary>
    public void Release(IPAddress? address)
    {
        Interlocked.Decrement(ref _total);
        if (_maxPerAddress <= 0 || address is null)
        {
            return;
        }

        var key = Normalize(address);
        while (_perAddress.TryGetValue(key, out var count))
        {
            if (count <= 1)
            {
                if (_perAddress.TryRemove(new KeyValuePair<IPAddress, int>(key, count)))
                {
                    return;
                }
            }
            else if (_perAddress.TryUpdate(key, count - 1, count))
            {
                return;
            }
        }
    }

    // An IPv4 client on a dual-stack socket appears as ::ffff:a.b.c.d; count it as the IPv4 address it is.
    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
