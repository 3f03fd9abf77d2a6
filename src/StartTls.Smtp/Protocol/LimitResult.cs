namespace StartTls.Smtp.Protocol;

/// <summary>The answer of <see cref="ConnectionLimiter.TryAcquire"/>.</summary>
internal enum LimitResult
{
    Accepted,
    TooManyConnections,
    TooManyFromAddress,
}
