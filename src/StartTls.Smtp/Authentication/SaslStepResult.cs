namespace StartTls.Smtp.Authentication;

/// <summary>What a SASL exchange does after one client response: challenge again, succeed, or fail.</summary>
public readonly struct SaslStepResult
{
    private SaslStepResult(SaslStepKind kind, byte[]? challenge, string? identity, SmtpReply? failure)
    {
        Kind = kind;
        Challenge = challenge;
        Identity = identity;
        FailureReply = failure;
    }

    /// <summary>The kind of step.</summary>
    public SaslStepKind Kind { get; }

    /// <summary>The challenge to send in a 334 reply (for <see cref="SaslStepKind.Continue"/>, for success with additional data, and for an error challenge).</summary>
    public byte[]? Challenge { get; }

    /// <summary>The authenticated identity, on success.</summary>
    public string? Identity { get; }

    /// <summary>The reply to a failure; <see langword="null"/> means <c>535 5.7.8 Authentication credentials invalid</c>.</summary>
    public SmtpReply? FailureReply { get; }

    /// <summary>Sends <paramref name="challenge"/> (base64-encoded in a 334 reply) and waits for the client's next response.</summary>
    /// <param name="challenge">The raw challenge; may be empty.</param>
    /// <returns>The step.</returns>
    public static SaslStepResult Continue(byte[] challenge) => new(SaslStepKind.Continue, challenge ?? [], null, null);

    /// <summary>
    /// Authentication succeeded as <paramref name="identity"/>. With <paramref name="additionalData"/> (SCRAM's
    /// server-final message) the server sends it in a 334 reply and answers 235 once the client's empty response arrives
    /// (RFC 4954 §4 has no data on 235).
    /// </summary>
    /// <param name="identity">The identity to record on the session.</param>
    /// <param name="additionalData">Data the client must verify; optional.</param>
    /// <returns>The step.</returns>
    public static SaslStepResult Success(string identity, byte[]? additionalData = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(identity);
        return new(SaslStepKind.Success, additionalData, identity, null);
    }

    /// <summary>Authentication failed; the client gets <paramref name="reply"/> or <c>535 5.7.8</c>.</summary>
    /// <param name="reply">A specific reply (for example <c>501 5.5.2</c> for a malformed message); optional.</param>
    /// <returns>The step.</returns>
    public static SaslStepResult Failure(SmtpReply? reply = null) => new(SaslStepKind.Failure, null, null, reply);

    /// <summary>
    /// Authentication failed, but the mechanism first sends an error challenge (OAUTHBEARER and XOAUTH2 send a JSON
    /// status); the client's response to it is read and the exchange then fails with <c>535 5.7.8</c>.
    /// </summary>
    /// <param name="errorChallenge">The error challenge.</param>
    /// <returns>The step.</returns>
    public static SaslStepResult FailureWithChallenge(byte[] errorChallenge) => new(SaslStepKind.FailureWithChallenge, errorChallenge, null, null);
}
