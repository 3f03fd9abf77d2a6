namespace StartTls.Smtp;

/// <summary>Why a mail transaction (<see cref="SmtpTransaction"/>) ended.</summary>
public enum SmtpTransactionEndReason
{
    /// <summary>
    /// The session closed with the transaction open: the client quit or disconnected (also in the middle of the
    /// content), the connection broke the protocol, timed out or was aborted. No reply to the content was sent.
    /// </summary>
    Closed,

    /// <summary>The content was received to its end and answered; <see cref="SmtpTransaction.MessageReply"/> is that reply.</summary>
    Completed,

    /// <summary>The client sent <c>RSET</c>.</summary>
    Reset,

    /// <summary>The client greeted again with <c>EHLO</c> or <c>HELO</c> (RFC 5321 §4.1.4).</summary>
    NewGreeting,

    /// <summary>The sender was refused at <c>MAIL</c> (by the mailbox filter, or because it failed).</summary>
    SenderRefused,
}
