using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using StartTls.Smtp.Diagnostics;
using StartTls.Smtp.Transport;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// The PROXY protocol: the header a trusted proxy must send before anything else, and the refusal of a header from
/// anyone else (docs/threat-model.md, PROXY protocol).
/// </summary>
internal sealed partial class SmtpConnection
{
    /// <summary>
    /// The client address whose per-address connection slot this connection holds, taken after a PROXY header;
    /// the server gives it back when the session ends. <see langword="null"/> when none was taken.
    /// </summary>
    public IPAddress? ProxiedAddress { get; private set; }

    /// <summary>
    /// Reads the PROXY header (version 1 or 2) from a trusted source, before the greeting and before any TLS
    /// handshake, and puts the client's addresses into the session. Nothing is ever written before it: a missing,
    /// malformed or late header closes the connection without a reply, as HAProxy does.
    /// </summary>
    /// <returns>False when the connection is to be closed.</returns>
    private async ValueTask<bool> ReadProxyHeaderAsync()
    {
        SetDeadline(_settings.ProxyHeaderTimeout, TimeoutPhase.ProxyHeader);
        while (true)
        {
            ReadResult result;
            _waitingForCommand = true;
            try
            {
                if (_shutdownRequested)
                {
                    return false;
                }

                result = await _input.ReadAsync().ConfigureAwait(false);
            }
            finally
            {
                _waitingForCommand = false;
            }

            var buffer = result.Buffer;
            if (result.IsCanceled)
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
                if (_shutdownRequested)
                {
                    return false;
                }

                if (IsExpired)
                {
                    Log.Timeout(_services.Logger, TimeoutPhase.ProxyHeader.Describe());
                    _services.Metrics.Timeouts.Add(1, _endpoint.MetricTag, new KeyValuePair<string, object?>("phase", TimeoutPhase.ProxyHeader.MetricName()));
                    return false;
                }

                ArmAlarm(Volatile.Read(ref _deadline), Volatile.Read(ref _stressDeadline));
                continue;
            }

            var status = ProxyHeaderParser.TryParse(buffer, out var header, out var end);
            if (status == ProxyHeaderStatus.Valid)
            {
                // What follows the header (a command pipelined behind it, or a TLS ClientHello) stays in the pipe.
                _input.AdvanceTo(end);
                return ApplyProxyHeader(header);
            }

            _input.AdvanceTo(buffer.Start, buffer.End);
            if (status == ProxyHeaderStatus.Invalid || result.IsCompleted)
            {
                Log.ProxyHeaderInvalid(_services.Logger, _session.RemoteEndPoint);
                _services.Metrics.Violation("proxy_header_invalid", _endpoint.MetricTag);
                return false;
            }
        }
    }

    /// <summary>Puts the header's addresses into the session and takes the client's per-address connection slot.</summary>
    private bool ApplyProxyHeader(ProxyHeader header)
    {
        if (header.IsLocal)
        {
            // A health check (LOCAL) or a client the proxy cannot describe: the connection speaks for itself.
            Log.ProxyHeaderLocal(_services.Logger, header.Version, _session.RemoteEndPoint);
            return true;
        }

        _session.ProxyEndPoint = _session.RemoteEndPoint;
        _session.RemoteEndPoint = header.Source;
        _session.LocalEndPoint = header.Destination;
        Log.ProxyHeaderAccepted(_services.Logger, header.Version, _session.ProxyEndPoint, header.Source, header.Destination);

        // The per-address limit counts clients, not the proxy: it is applied now that the client is known.
        var address = header.Source!.Address;
        if (!_services.Limiter.TryAcquireAddress(address))
        {
            _services.Metrics.ConnectionsRefused.Add(1, _endpoint.MetricTag, new KeyValuePair<string, object?>("reason", "max_connections_per_ip"));
            _services.Limiter.LogRefusal(address, LimitResult.TooManyFromAddress, Replies.TooManyConnectionsFromIp.Message);

            // On an implicit-TLS endpoint the client expects a handshake: no plaintext byte, just the close (RFC 8314).
            if (!_endpoint.ImplicitTls)
            {
                WriteFarewell(Replies.TooManyConnectionsFromIp);
            }

            return false;
        }

        ProxiedAddress = address;
        return true;
    }

    /// <summary>True when <paramref name="buffer"/> starts with the 12-byte signature of a version 2 PROXY header.</summary>
    private static bool StartsWithProxyV2Signature(in ReadOnlySequence<byte> buffer)
    {
        var signature = ProxyHeaderParser.V2Signature;
        if (buffer.Length < signature.Length)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[12];
        buffer.Slice(0, head.Length).CopyTo(head);
        return head.SequenceEqual(signature);
    }

    /// <summary>A PROXY header from a client that is not a trusted proxy: a protocol violation; the connection closes.</summary>
    private ConnectionAction RefuseProxyHeader()
        => Violation(Replies.ProxyHeaderNotAllowed, "proxy_header_untrusted", "PROXY protocol header from an untrusted address");
}
