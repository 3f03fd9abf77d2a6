namespace StartTls.Smtp.Storage;

/// <summary>
/// Thrown to a message store that reads the content of a transaction that failed before its end
/// (the client disconnected, the message grew over the size limit, or the content broke the protocol).
/// The store must discard what it has written.
/// </summary>
public sealed class MessageAbortedException : IOException
{
    /// <summary>Creates the exception.</summary>
    public MessageAbortedException()
        : base("The message was aborted before its end; nothing must be kept.")
    {
    }

    /// <summary>Creates the exception with a reason.</summary>
    /// <param name="message">Why the message was aborted.</param>
    public MessageAbortedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a reason and a cause.</summary>
    /// <param name="message">Why the message was aborted.</param>
    /// <param name="innerException">The cause.</param>
    public MessageAbortedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
