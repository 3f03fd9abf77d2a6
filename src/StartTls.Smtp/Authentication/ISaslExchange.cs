namespace StartTls.Smtp.Authentication;

/// <summary>The server side of one SASL authentication exchange (RFC 4422); created per AUTH command.</summary>
public interface ISaslExchange
{
    /// <summary>
    /// Processes one client response: the initial response from the AUTH line (empty for <c>=</c>, or when the client
    /// sent none and the mechanism is client-first), or the decoded answer to the previous challenge.
    /// </summary>
    /// <param name="response">The decoded client response.</param>
    /// <param name="cancellationToken">Cancelled when the connection ends.</param>
    /// <returns>The next step.</returns>
    ValueTask<SaslStepResult> StepAsync(ReadOnlyMemory<byte> response, CancellationToken cancellationToken);
}
