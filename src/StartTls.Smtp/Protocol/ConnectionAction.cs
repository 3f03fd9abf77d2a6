namespace StartTls.Smtp.Protocol;

/// <summary>What the connection loop does after a command.</summary>
internal enum ConnectionAction
{
    /// <summary>Read the next command.</summary>
    Continue,

    /// <summary>Receive message content (the 354 has been written).</summary>
    ReceiveData,

    /// <summary>Receive a message by BDAT, starting with the chunk announced by the command just run.</summary>
    ReceiveChunks,

    /// <summary>Read and drop the chunk of a refused BDAT, then write the refusal.</summary>
    DiscardChunk,

    /// <summary>Flush the 220 and run the TLS handshake on the transport.</summary>
    StartTls,

    /// <summary>Flush the replies written so far and close.</summary>
    Close,
}
