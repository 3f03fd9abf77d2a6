// <readme:transaction-hooks>
using StartTls.Smtp;
// </readme:transaction-hooks>

namespace StartTls.Smtp.EmbeddingSample;

// <readme:transaction-hooks>
// A filter opts into hooks by implementing their interfaces; all see the same SmtpTransaction.
internal sealed class SpamVerdictFilter : IMailboxFilter, IMessageStartHook, IMessageVerdictHook, ITransactionEndHook
{
    public ValueTask<SmtpReply> CheckSenderAsync(SmtpSession session, SmtpEnvelope envelope, CancellationToken cancellationToken)
    {
        session.Transaction!.Items["checked-at"] = DateTimeOffset.UtcNow; // state for this transaction only
        return ValueTask.FromResult(SmtpReply.SenderOk);
    }

    public ValueTask<SmtpReply> CheckRecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken)
        => ValueTask.FromResult(SmtpReply.RecipientOk);

    // Before 354 (or the first BDAT chunk): null lets the message come, a reply refuses it.
    public ValueTask<SmtpReply?> OnMessageStartingAsync(SmtpTransaction transaction, CancellationToken cancellationToken)
        => ValueTask.FromResult(transaction.Envelope.Recipients.Count > 50 && !transaction.Session.IsAuthenticated
            ? new SmtpReply(554, "5.7.1", "Too many recipients for an unauthenticated client")
            : null);

    // After the store: replace its 250 with a refusal. (A failed store's 4xx is never turned into 250.)
    public ValueTask<SmtpReply> OnMessageReceivedAsync(SmtpTransaction transaction, SmtpReply storeReply, CancellationToken cancellationToken)
        => ValueTask.FromResult(transaction.Items.TryGetValue("spam-score", out var score) && score is > 5.0
            ? SmtpReply.Spam // 554 5.7.1; the store, which set the score, must drop what it kept
            : storeReply);

    public ValueTask OnTransactionEndedAsync(SmtpTransaction transaction, SmtpTransactionEndReason reason)
    {
        Console.WriteLine($"{transaction.Id} ended: {reason}, reply {transaction.MessageReply?.Code}");
        return ValueTask.CompletedTask;
    }
}
// </readme:transaction-hooks>

/// <summary>The README's example of testing a filter without a socket.</summary>
internal static class SpamVerdictFilterCheck
{
    internal static async Task RunAsync()
    {
        // <readme:hook-test>
        var session = SmtpSession.CreateForTesting(heloName: "client.example", authenticatedIdentity: null);
        var envelope = SmtpEnvelope.CreateForTesting(new SmtpMailbox("alice", "example.org"));
        var transaction = SmtpTransaction.CreateForTesting(session, envelope); // session.Transaction is now this one
        transaction.Items["spam-score"] = 9.5;

        var reply = await new SpamVerdictFilter().OnMessageReceivedAsync(transaction, SmtpReply.MessageAccepted, CancellationToken.None);
        Console.WriteLine(reply.Code); // 554
        // </readme:hook-test>
    }
}
