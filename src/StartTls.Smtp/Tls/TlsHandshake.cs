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
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(settings.HandshakeTimeout);
        SslStream? ssl = null;
        try
        {
            var first = await transport.Input.ReadAsync(timeout.Token).ConfigureAwait(false);
            if (first.Buffer.IsEmpty)
            {
                transport.Input.AdvanceTo(first.Buffer.End);
                return TlsHandshakeResult.Fail("closed before the handshake");
            }

            var firstByte = first.Buffer.FirstSpan[0];

            // Leave the bytes unexamined: the TLS stream reads them from this same pipe next.
            transport.Input.AdvanceTo(first.Buffer.Start);
            if (firstByte != HandshakeRecord)
            {
                return TlsHandshakeResult.Fail("not a TLS handshake record");
            }

            var inner = new DuplexPipeStream(transport.Input, transport.Output);
            ssl = new SslStream(inner, leaveInnerStreamOpen: false);
            var state = new CallbackState(settings, session);
            await ssl.AuthenticateAsServerAsync(SelectOptionsAsync, state, timeout.Token).ConfigureAwait(false);
            if (transport is Transport.IReadGateOwner socketTransport)
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
            var gate = new Transport.ZeroByteReadGate(ssl);
            var pipe = new TlsPipe(ssl, gate, PipeReader.Create(gate, Transport.StreamPipeSettings.Reader), PipeWriter.Create(ssl, Transport.StreamPipeSettings.Writer));
            ssl = null;
            return TlsHandshakeResult.Succeed(pipe, info);
        }
        catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
        {
            return TlsHandshakeResult.Fail("handshake timeout");
        }
        catch (AuthenticationException ex)
        {
            return TlsHandshakeResult.Fail("handshake failed: " + ex.Message);
        }
        catch (IOException ex)
        {
            return TlsHandshakeResult.Fail("handshake I/O error: " + ex.Message);
        }
        finally
        {
            if (ssl is not null)
            {
                await ssl.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static async ValueTask<SslServerAuthenticationOptions> SelectOptionsAsync(SslStream stream, SslClientHelloInfo hello, object? state, CancellationToken cancellationToken)
    {
        var s = (CallbackState)state!;
        s.ServerName = string.IsNullOrEmpty(hello.ServerName) ? null : hello.ServerName;
        var context = await s.Settings.Selector.SelectCertificateAsync(s.ServerName, s.Session, cancellationToken).ConfigureAwait(false)
            ?? throw new AuthenticationException("No certificate for the requested server name.");
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
