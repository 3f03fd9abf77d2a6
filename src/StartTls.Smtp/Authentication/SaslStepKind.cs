namespace StartTls.Smtp.Authentication;

/// <summary>The kinds of <see cref="SaslStepResult"/>.</summary>
public enum SaslStepKind
{
    /// <summary>Send a challenge and read the next response.</summary>
    Continue,

    /// <summary>Authenticated.</summary>
    Success,

    /// <summary>Not authenticated.</summary>
    Failure,

    /// <summary>Send an error challenge, read the response, then fail.</summary>
    FailureWithChallenge,
}
