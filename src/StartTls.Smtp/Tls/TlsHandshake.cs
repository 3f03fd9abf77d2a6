using System.IO.Pipelines;
using System.Net.Security;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;

namespace StartTls.Smtp.Tls;

/// <summary>
/// Runs the server side of a TLS handshake on the connection's transport pipes and returns the pipes of the
/// encrypted session. The first byte must open a TLS handshake record (0x16): anything else, a failed handshake or
/// one over the timeout ends the connection, and nothing is ever written in plaintext again.
/// </summary>
internal static class TlsHandshake
{
    /// <summary>The TLS record content type of a handshake message (RFC 8446 §5.1).</summary>
    private const byte HandshakeRecord = 0x16;


    public static async ValueTask<TlsHandshakeResult> RunAsync(IDuplexPipe transport, TlsSettings settings, SmtpSession session, bool isImplicit, CancellationToken aborted)
    {
        using var deadline = new CancellationTokenSource(settings.HandshakeTimeout, settings.Time);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted, deadline.Token);
        SslStream? ssl = null;
        var state = new CallbackState(settings, session);
        try
        {
            var first = await transport.Input.ReadAsync(timeout.Token).ConfigureAwait(false);
            if (first.Buffer.IsEmpty)
            {
                transport.Input.AdvanceTo(first.Buffer.End);
                return TlsHandshakeResult.Fail(TlsFailureKind.Closed, "closed before the handshake");
            }

            var firstByte = first.Buffer.FirstSpan[0];

            // Leave the bytes unexamined: the TLS stream reads them from this same pipe next.
            transport.Input.AdvanceTo(first.Buffer.Start);
            if (firstByte != HandshakeRecord)
            {
                return TlsHandshakeResult.Fail(TlsFailureKind.NotTls, "not a TLS handshake record");
            }

            var inner = new DuplexPipeStream(transport.Input, transport.Output);
            ssl = new SslStream(inner, leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsServerAsync(SelectOptionsAsync, state, timeout.Token).ConfigureAwait(false);
            if (transport is IO.IReadGateOwner socketTransport)
            {
                // The handshake read its bytes from the plaintext pipe; the records after it need no pipe in between.
                inner.BypassPipesWhenDrained(socketTransport.ReadGate);
                socketTransport.ReadGate.ConfirmWakeups = true;
            }

            // Only a certificate that was asked for is reported: a resumed TLS 1.3 session can carry one from a
            // context that did ask (.NET shares server SSL contexts and ticket keys per certificate).
            var remote = settings.ClientCertificateMode == ClientCertificateMode.NoCertificate ? null : ssl.RemoteCertificate;
            X509Certificate2? clientCertificate = remote as X509Certificate2
                ?? (remote is { } other ? X509CertificateLoader.LoadCertificate(other.GetRawCertData()) : null);
            var info = new SmtpTlsInfo(ssl.SslProtocol, ssl.NegotiatedCipherSuite, state.ServerName, clientCertificate, state.ClientCertificateErrors, isImplicit);
            if (settings.ReleaseIdleBuffers)
            {
                OpenSslBufferRelease.Apply(ssl);
            }

            var gate = new IO.ZeroByteReadGate(ssl);
            var pipe = new TlsPipe(ssl, gate, PipeReader.Create(gate, IO.StreamPipeSettings.Reader), PipeWriter.Create(ssl, IO.StreamPipeSettings.Writer));
            ssl = null;
            return TlsHandshakeResult.Succeed(pipe, info);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            return TlsHandshakeResult.Fail(TlsFailureKind.Timeout, "handshake timeout");
        }
        catch (Exception ex) when (IsHandshakeFailure(ex, state, aborted))
        {
            return TlsHandshakeResult.Fail(TlsFailureKind.Failed, Describe(ex));
        }
        finally
        {
            if (ssl is not null)
            {
                await ssl.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// Whatever the handshake throws is the client's doing and ends only this connection: SslStream answers hostile
    /// bytes with AuthenticationException and IOException, but also NotSupportedException (a handshake record that is
    /// not a ClientHello), InvalidOperationException, Win32Exception and others. Two exceptions stay exceptional: the
    /// connection's abort, and a failure of the application's certificate selector, which is a bug to report.
    /// </summary>
    private static bool IsHandshakeFailure(Exception exception, CallbackState state, CancellationToken aborted)
    {
        if ((exception is OperationCanceledException && aborted.IsCancellationRequested) || exception is OutOfMemoryException)
        {
            return false;
        }

        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (ReferenceEquals(e, state.SelectorException))
            {
                return false;
            }
        }

        return true;
    }

    private static string Describe(Exception exception) => exception switch
    {
        AuthenticationException => "handshake failed: " + exception.Message,
        IOException => "handshake I/O error: " + exception.Message,
        _ => "handshake failed (" + exception.GetType().Name + "): " + exception.Message,
    };

    private static async ValueTask<SslServerAuthenticationOptions> SelectOptionsAsync(SslStream stream, SslClientHelloInfo hello, object? state, CancellationToken cancellationToken)
    {
        var s = (CallbackState)state!;
        s.ServerName = string.IsNullOrEmpty(hello.ServerName) ? null : hello.ServerName;
        SslStreamCertificateContext? context;
        try
        {
            context = await s.Settings.Selector.SelectCertificateAsync(s.ServerName, s.Session, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The application's code: its failure is reported as a bug, not as a client's failed handshake.
            s.SelectorException = ex;
            throw;
        }

        if (context is null)
        {
            throw new AuthenticationException("No certificate for the requested server name.");
        }

        var mode = s.Settings.ClientCertificateMode;
        return new SslServerAuthenticationOptions
        {
            ServerCertificateContext = context,
            EnabledSslProtocols = s.Settings.EnabledProtocols,
            AllowRenegotiation = false,
            ClientCertificateRequired = mode != ClientCertificateMode.NoCertificate,
            CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            // Always ours: with none, .NET validates any client certificate it meets (one carried by a resumed
            // session) against the system store and fails the handshake of a server that never asked for one.
            RemoteCertificateValidationCallback = s.ValidateClientCertificate,
        };
    }

    private sealed class CallbackState(TlsSettings settings, SmtpSession session)
    {
        public TlsSettings Settings { get; } = settings;

        public SmtpSession Session { get; } = session;

        public string? ServerName { get; set; }

        public Exception? SelectorException { get; set; }

        public SslPolicyErrors ClientCertificateErrors { get; private set; }

        // The chain is the application's to judge (SmtpTlsInfo.ClientCertificateErrors); only presence is enforced here.
        public bool ValidateClientCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
        {
            if (Settings.ClientCertificateMode == ClientCertificateMode.NoCertificate)
            {
                return true;
            }

            ClientCertificateErrors = errors;
            return certificate is not null || Settings.ClientCertificateMode != ClientCertificateMode.RequireCertificate;
        }
    }
}
