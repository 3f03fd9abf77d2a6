namespace StartTls.Smtp.Tls;

/// <summary>The outcome of <see cref="TlsHandshake.RunAsync"/>.</summary>
internal readonly struct TlsHandshakeResult
{
    private TlsHandshakeResult(TlsPipe? pipe, SmtpTlsInfo? info, string? failure)
    {
        Pipe = pipe;
        Info = info;
        Failure = failure;
    }

    public TlsPipe? Pipe { get; }

    public SmtpTlsInfo? Info { get; }

    public string? Failure { get; }

    public static TlsHandshakeResult Succeed(TlsPipe pipe, SmtpTlsInfo info) => new(pipe, info, null);

    public static TlsHandshakeResult Fail(string reason) => new(null, null, reason);
}
