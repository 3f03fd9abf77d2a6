namespace StartTls.Smtp.Transport;

/// <summary>The answer of <see cref="ConnectionLimiter.TryAcquire"/>.</summary>
internal enum LimitResult
{
    Accepted,
    TooManyConnections,
    TooManyFromAddress,
}
