using System.Collections;
using System.Net;

namespace StartTls.Smtp.Diagnostics;

/// <summary>
/// The state of a connection's logging scope: <c>SessionId</c> and <c>RemoteEndPoint</c>. The address is read from the
/// session each time the scope is written, so events after a PROXY header or XCLIENT carry the client's address,
/// not the proxy's.
/// </summary>
internal sealed class ConnectionLogScope(SmtpSession session) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 3;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("SessionId", session.Id),
        1 => new("RemoteEndPoint", session.RemoteEndPoint),
        2 => new("{OriginalFormat}", "SMTP session {SessionId} from {RemoteEndPoint}"),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => "SMTP session " + session.Id + " from " + (session.RemoteEndPoint?.ToString() ?? "(unknown)");
}
