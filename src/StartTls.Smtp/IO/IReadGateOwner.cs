namespace StartTls.Smtp.IO;

/// <summary>A duplex pipe whose reader sits on a <see cref="ZeroByteReadGate"/> the connection can switch.</summary>
internal interface IReadGateOwner
{
    /// <summary>The gate under the pipe's reader.</summary>
    ZeroByteReadGate ReadGate { get; }
}
