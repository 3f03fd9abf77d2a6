using System.Text;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Gateway;

/// <summary>
/// The gateway's "store": it keeps nothing beyond a spool file while it forwards; it sends the content to the upstream
/// with our Received header in front and answers the client with the upstream's reply, so the client hears 250 only
/// after the upstream said 250.
/// </summary>
internal sealed class ForwardingStore(GatewayOptions options, UpstreamRelay relay, TimeProvider timeProvider) : IMessageStore
{
    /// <inheritdoc/>
    // <readme:gateway-store>
    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content,
        CancellationToken cancellationToken)
    {
        // Our Received header (RFC 5321 §4.4) goes in front; Return-Path is for the final delivery, not a relay.
        var trace = SmtpTraceHeaders.Format(session, envelope, options.ServerName, timeProvider.GetLocalNow());
        var received = trace[(trace.IndexOf("\r\n", StringComparison.Ordinal) + 2)..];

        // The upstream's reply to the content (250, or its 4xx/5xx) is the client's reply.
        return await relay.DataAsync(session, envelope, Encoding.UTF8.GetBytes(received), content, cancellationToken);
    }
    // </readme:gateway-store>
}
