using System.Net;
using StartTls.Smtp.Diagnostics;

namespace StartTls.Smtp.Protocol;

/// <summary>Postfix's XCLIENT command: a trusted SMTP proxy hands over the original client's attributes.</summary>
internal sealed partial class SmtpConnection
{
    /// <summary>The SASL mechanism name recorded when XCLIENT LOGIN sets the identity.</summary>
    internal const string XclientMechanism = "XCLIENT";

    /// <summary>
    /// XCLIENT (XCLIENT_README): only from a trusted client and outside a transaction. The attributes given replace
    /// the session's (the others are kept), and the session starts again as Postfix's does: the reply is a new 220
    /// greeting and the client must send EHLO or HELO again (which sets the HELO name anew).
    /// </summary>
    private ConnectionAction Xclient(ReadOnlySpan<byte> arguments)
    {
        if (!_xclientAllowed)
        {
            return Error(Replies.XclientNotAuthorized);
        }

        if (_transaction is not null)
        {
            return Error(Replies.XclientInTransaction);
        }

        var error = XclientParser.Parse(arguments, out var attributes);
        if (error is not null)
        {
            return Error(error);
        }

        if (attributes.HasAddress || attributes.HasPort)
        {
            var current = _session.RemoteEndPoint as IPEndPoint;
            var address = attributes.HasAddress ? attributes.Address : current?.Address;
            var port = attributes.HasPort ? attributes.Port : current?.Port ?? 0;
            _session.ProxyEndPoint ??= _session.RemoteEndPoint;
            _session.RemoteEndPoint = address is null ? null : new IPEndPoint(address, port);
        }

        if (attributes.HasName)
        {
            _session.ClientHostName = attributes.Name;
        }

        if (attributes.HasHelo)
        {
            _session.HeloName = attributes.Helo;
        }

        if (attributes.HasProtocol)
        {
            _session.IsExtended = attributes.IsExtended;
        }

        if (attributes.HasLogin)
        {
            // The proxy authenticated the client: its word replaces any AUTH of this session.
            _sasl?.Reset();
            _session.AuthenticatedIdentity = attributes.Login;
            _session.AuthenticationMechanism = attributes.Login is null ? null : XclientMechanism;
        }

        _greeted = false;
        Log.XclientApplied(_services.Logger, _session.ProxyEndPoint, _session.RemoteEndPoint, _session.ClientHostName, _session.HeloName, _session.IsAuthenticated);
        SmtpActivities.SetClient(_activity, _session);
        Write(Greeting);
        return ConnectionAction.Continue;
    }
}
