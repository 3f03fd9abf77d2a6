using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StartTls.Smtp.Diagnostics;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// Counts open connections overall and per remote address, whatever transport they came by, refuses those over the
/// limits, and says when the server is under stress (more connections than the stress share of the limit). Refusals
/// are logged once per <see cref="RefusalLogInterval"/> and limit with a count, as any client can cause them.
/// </summary>
internal sealed class ConnectionLimiter
{
    /// <summary>How often, at most, the refusals for one limit are logged.</summary>
    public static readonly TimeSpan RefusalLogInterval = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The refused connections that may wait at once for their client to read the 421 (up to seconds each, a
    /// descriptor each); further ones are closed at once, so that a flood cannot use up the descriptors.
    /// </summary>
    public const int MaxRefusalsInFlight = 16;

    private readonly int _maxPerAddress;
    private readonly double _stressShare;
    private readonly ConcurrentDictionary<IPAddress, int> _perAddress = new();
    private readonly IntervalLogThrottle<(IPAddress? Address, string Reason)> _refusedOverall;
    private readonly IntervalLogThrottle<(IPAddress? Address, string Reason)> _refusedPerAddress;
    private int _maxConnections;
    private int _total;
    private int _refusing;

    /// <param name="maxConnections">Connections served at once.</param>
    /// <param name="maxPerAddress">Connections from one address at once; 0 for no limit.</param>
    /// <param name="stressThreshold">The share of the connection limit above which the server is under stress; 0 for never.</param>
    /// <param name="logger">Where refusals are logged.</param>
    /// <param name="timeProvider">The clock of the refusal log's intervals.</param>
    public ConnectionLimiter(int maxConnections, int maxPerAddress, double stressThreshold = 0, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        _maxConnections = maxConnections;
        _maxPerAddress = maxPerAddress;
        _stressShare = stressThreshold;
        logger ??= NullLogger.Instance;
        timeProvider ??= TimeProvider.System;
        _refusedOverall = RefusalLog(logger, timeProvider);
        _refusedPerAddress = RefusalLog(logger, timeProvider);
    }

    /// <summary>The number of connections counted now.</summary>
    public int Count => Volatile.Read(ref _total);

    /// <summary>True while more connections are open than the stress share of the (possibly lowered) limit.</summary>
    public bool UnderStress => _stressShare > 0 && Volatile.Read(ref _total) > (int)Math.Floor(_stressShare * Volatile.Read(ref _maxConnections));

    /// <summary>The number of connections served at once.</summary>
    public int MaxConnections => Volatile.Read(ref _maxConnections);

    /// <summary>Lowers <see cref="MaxConnections"/> (never raises it): the process cannot open more sockets.</summary>
    /// <param name="maxConnections">The new limit.</param>
    public void LowerMaxConnections(int maxConnections)
    {
        int current;
        do
        {
            current = Volatile.Read(ref _maxConnections);
            if (maxConnections >= current)
            {
                return;
            }
        }
        while (Interlocked.CompareExchange(ref _maxConnections, maxConnections, current) != current);
    }

    /// <summary>Takes a slot for <paramref name="address"/>, or says which limit refused it.</summary>
    public LimitResult TryAcquire(IPAddress? address)
    {
        if (Interlocked.Increment(ref _total) > Volatile.Read(ref _maxConnections))
        {
            Interlocked.Decrement(ref _total);
            return LimitResult.TooManyConnections;
        }

        if (address is not null && !TryAcquireAddress(address))
        {
            Interlocked.Decrement(ref _total);
            return LimitResult.TooManyFromAddress;
        }

        return LimitResult.Accepted;
    }

    /// <summary>
    /// Takes only the per-address slot for <paramref name="address"/>: for a connection counted without an address
    /// (<c>TryAcquire(null)</c>) whose client is known later, from a PROXY protocol header.
    /// </summary>
    /// <returns>False when the address already has its limit of connections.</returns>
    public bool TryAcquireAddress(IPAddress address)
    {
        if (_maxPerAddress <= 0)
        {
            return true;
        }

        var count = _perAddress.AddOrUpdate(Normalize(address), 1, static (_, n) => n + 1);
        if (count > _maxPerAddress)
        {
            ReleaseAddress(address);
            return false;
        }

        return true;
    }

    /// <summary>Gives back the slot taken for <paramref name="address"/>.</summary>
    public void Release(IPAddress? address)
    {
        Interlocked.Decrement(ref _total);
        if (address is not null)
        {
            ReleaseAddress(address);
        }
    }

    /// <summary>Gives back the per-address slot taken by <see cref="TryAcquireAddress"/>.</summary>
    public void ReleaseAddress(IPAddress address)
    {
        if (_maxPerAddress <= 0)
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

    /// <summary>Takes one of the <see cref="MaxRefusalsInFlight"/> slots for sending a 421; false when none is free.</summary>
    /// <returns>True when the caller may send the 421, and must call <see cref="EndRefusal"/> after.</returns>
    public bool TryStartRefusal()
    {
        if (Interlocked.Increment(ref _refusing) > MaxRefusalsInFlight)
        {
            Interlocked.Decrement(ref _refusing);
            return false;
        }

        return true;
    }

    /// <summary>Gives back the slot taken by <see cref="TryStartRefusal"/>.</summary>
    public void EndRefusal() => Interlocked.Decrement(ref _refusing);

    /// <summary>Logs a refusal: the first of a run at once, then a count per interval.</summary>
    /// <param name="address">The refused client's address, if known.</param>
    /// <param name="limit">The limit that refused it.</param>
    /// <param name="reason">The reply text it got.</param>
    public void LogRefusal(IPAddress? address, LimitResult limit, string reason)
        => (limit == LimitResult.TooManyConnections ? _refusedOverall : _refusedPerAddress).Record((address, reason));

    private static IntervalLogThrottle<(IPAddress? Address, string Reason)> RefusalLog(ILogger logger, TimeProvider timeProvider)
        => new(RefusalLogInterval, timeProvider,
            refusal => Log.ConnectionLimited(logger, refusal.Address, refusal.Reason),
            (count, interval, last) => Log.ConnectionsLimited(logger, count, interval, last.Address, last.Reason));

    // An IPv4 client on a dual-stack socket appears as ::ffff:a.b.c.d; count it as the IPv4 address it is.
    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
