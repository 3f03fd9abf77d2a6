namespace StartTls.Smtp.Tls;

/// <summary>The outcome of <see cref="TlsHandshake.RunAsync"/>.</summary>
internal readonly struct TlsHandshakeResult
{
    private TlsHandshakeResult(TlsPipe? pipe, SmtpTlsInfo? info, TlsFailureKind failureKind, string? failure)
    {
        Pipe = pipe;
        Info = info;
        FailureKind = failureKind;
        Failure = failure;
    }

    public TlsPipe? Pipe { get; }

    public SmtpTlsInfo? Info { get; }

    /// <summary>Why the handshake failed; meaningful only when <see cref="Pipe"/> is <see langword="null"/>.</summary>
    public TlsFailureKind FailureKind { get; }

    /// <summary>What went wrong, for the log.</summary>
    public string? Failure { get; }

    public static TlsHandshakeResult Succeed(TlsPipe pipe, SmtpTlsInfo info) => new(pipe, info, default, null);

    public static TlsHandshakeResult Fail(TlsFailureKind kind, string reason) => new(null, null, kind, reason);
}
