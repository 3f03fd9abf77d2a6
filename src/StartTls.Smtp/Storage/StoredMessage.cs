using System.Net;
using System.Text;

namespace StartTls.Smtp.Storage;

/// <summary>A message kept by <see cref="InMemoryMessageStore"/>: its envelope, the session facts and the content.</summary>
public sealed class StoredMessage
{
    internal StoredMessage(SmtpEnvelope envelope, string sessionId, EndPoint? remoteEndPoint, string? heloName, ReadOnlyMemory<byte> content, DateTimeOffset receivedAt)
    {
        Envelope = envelope;
        SessionId = sessionId;
        RemoteEndPoint = remoteEndPoint;
        HeloName = heloName;
        Content = content;
        ReceivedAt = receivedAt;
    }

    /// <summary>The transaction's reverse path, recipients and parameters.</summary>
    public SmtpEnvelope Envelope { get; }

    /// <summary>The <see cref="SmtpSession.Id"/> of the connection that sent the message.</summary>
    public string SessionId { get; }

    /// <summary>The client's address and port.</summary>
    public EndPoint? RemoteEndPoint { get; }

    /// <summary>The name the client gave in HELO or EHLO.</summary>
    public string? HeloName { get; }

    /// <summary>The message content exactly as received (CRLF line endings, dot-stuffing undone).</summary>
    public ReadOnlyMemory<byte> Content { get; }

    /// <summary>When the store finished receiving the message.</summary>
    public DateTimeOffset ReceivedAt { get; }

    /// <summary>The content decoded as UTF-8 (invalid sequences become U+FFFD).</summary>
    public string GetContentAsString() => Encoding.UTF8.GetString(Content.Span);
}
