// <readme:store>
using StartTls.Smtp;
using StartTls.Smtp.Storage;
// </readme:store>

namespace StartTls.Smtp.EmbeddingSample;

// <readme:store>
internal sealed class ConsoleMessageStore : IMessageStore
{
    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        // The content streams in while the client sends it: read it to the end before answering 2xx.
        using var reader = new StreamReader(content);
        var text = await reader.ReadToEndAsync(cancellationToken);
        Console.WriteLine($"From {envelope.From} to {string.Join(", ", envelope.Recipients)}: {text.Length} chars");
        return SmtpReply.MessageAccepted; // 250 2.0.0 - sent only now, after the store has returned
    }
}
// </readme:store>
