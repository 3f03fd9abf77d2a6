using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MailKit;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.Logging;
using MimeKit;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Gateway;

/// <summary>
/// Runs each client session's mail transaction on the upstream while the client waits: connect and MAIL at the first
/// relayed RCPT, each RCPT forwarded as it comes, the content streamed at the end of data. Any upstream failure is an
/// answer to the client (<see cref="SmtpReply.UpstreamUnavailable"/> when the upstream cannot answer), never a
/// message accepted without the upstream's 250.
/// </summary>
internal sealed class UpstreamRelay(GatewayOptions options, ILogger<UpstreamRelay> logger)
{
    private readonly X509Certificate2Collection? _trustedCas = LoadCas(options.UpstreamCa);

    /// <summary>Forwards one RCPT (after MAIL, when the transaction is new) and returns the upstream's verdict.</summary>
    public async ValueTask<SmtpReply> RecipientAsync(SmtpSession session, SmtpEnvelope envelope, SmtpRecipient recipient, CancellationToken cancellationToken)
    {
        if (envelope.RequireTls && options.UpstreamTls == UpstreamTlsMode.None)
        {
            return GatewayReplies.RequireTlsUnavailable;
        }

        var transaction = session.Items.TryGetValue(typeof(UpstreamTransaction), out var item) ? (UpstreamTransaction)item! : null;
        try
        {
            if (transaction is null)
            {
                var (client, failure) = await ConnectAsync(cancellationToken);
                if (client is null)
                {
                    return failure!;
                }

                transaction = new UpstreamTransaction(client);
                session.Items[typeof(UpstreamTransaction)] = transaction;
            }

            if (!ReferenceEquals(transaction.Envelope, envelope))
            {
                await BeginAsync(transaction, envelope, cancellationToken);
            }

            if (transaction.MailRefusal is { } refused)
            {
                return refused;
            }

            var response = await transaction.Client.CommandAsync(RcptCommand(transaction.Client, recipient), cancellationToken);
            var reply = GatewayReplies.FromUpstream(response);
            if (reply.IsPositive)
            {
                transaction.Accepted.Add(recipient);
            }

            GatewayLog.UpstreamRecipient(logger, session.Id, reply.Code);
            return reply;
        }
        catch (Exception ex) when (IsUpstreamFailure(ex))
        {
            GatewayLog.UpstreamFailed(logger, session.Id, "RCPT", ex);
            await DropAsync(session);
            return SmtpReply.UpstreamUnavailable;
        }
    }

    /// <summary>
    /// Sends the message upstream with <paramref name="prefix"/> (our Received header) in front, to the recipients the
    /// upstream accepted at RCPT time; returns the upstream's reply to the content.
    /// </summary>
    public async ValueTask<SmtpReply> DataAsync(SmtpSession session, SmtpEnvelope envelope, ReadOnlyMemory<byte> prefix, Stream content, CancellationToken cancellationToken)
    {
        if (!session.Items.TryGetValue(typeof(UpstreamTransaction), out var item) || item is not UpstreamTransaction transaction
            || !ReferenceEquals(transaction.Envelope, envelope) || transaction.Accepted.Count == 0)
        {
            // Every recipient the client got 250 for was accepted upstream; anything else means the upstream went away.
            return SmtpReply.UpstreamUnavailable;
        }

        // The content is spooled to a file and parsed in place (persistent: true: MIME parts stay ranges of that file),
        // so a message in flight costs its headers in memory, not its size, however large MaxMessageSize is.
        await using var spool = await SpoolAsync(session, prefix, content, cancellationToken);
        if (spool is null)
        {
            return SmtpReply.InsufficientStorage; // 452 4.3.1: the client retries; the upstream is reset at the transaction's end
        }

        var client = transaction.Client;
        try
        {
            using var message = await MimeMessage.LoadAsync(spool, persistent: true, cancellationToken);

            // The RCPT-time probe ends here; MailKit runs the real transaction (MAIL, RCPT, DATA or BDAT) itself.
            await client.CommandAsync("RSET", cancellationToken);
            transaction.Envelope = null;
            client.Sending = envelope;
            client.DeliveryStatusNotificationType = envelope.DsnReturn switch
            {
                DsnReturn.Full => DeliveryStatusNotificationType.Full,
                DsnReturn.Headers => DeliveryStatusNotificationType.HeadersOnly,
                _ => DeliveryStatusNotificationType.Unspecified,
            };
            client.RequireTLS = envelope.RequireTls;
            var format = FormatOptions.Default.Clone();
            format.International = envelope.IsSmtpUtf8;
            var sender = envelope.From is { } from ? MailboxAddress.Parse(ParserOptions.Default, "<" + from.Address + ">") : new MailboxAddress(string.Empty, string.Empty);
            var recipients = transaction.Accepted.ConvertAll(r => new MailboxAddress(string.Empty, r.Mailbox.Address));
            var text = await client.SendAsync(format, message, sender, recipients, cancellationToken);
            GatewayLog.UpstreamData(logger, session.Id, 250);
            return GatewayReplies.FromUpstream(new SmtpResponse(SmtpStatusCode.Ok, text));
        }
        catch (SmtpCommandException ex) when (ex.ErrorCode == SmtpErrorCode.RecipientNotAccepted)
        {
            // A recipient the probe accepted is refused now: nothing was sent, and a retry gets the refusal at RCPT
            // time for that recipient alone, so this is transient for the message as a whole.
            GatewayLog.UpstreamData(logger, session.Id, (int)ex.StatusCode);
            return GatewayReplies.RecipientChangedUpstream;
        }
        catch (SmtpCommandException ex)
        {
            // The upstream's 4xx/5xx to MAIL, RCPT or the content: the client's reply (it never got 250 for this message).
            GatewayLog.UpstreamData(logger, session.Id, (int)ex.StatusCode);
            return GatewayReplies.FromUpstream(new SmtpResponse(ex.StatusCode, ex.Message));
        }
        catch (Exception ex) when (IsUpstreamFailure(ex) || ex is FormatException)
        {
            GatewayLog.UpstreamFailed(logger, session.Id, "DATA", ex);
            await DropAsync(session);
            return SmtpReply.UpstreamUnavailable;
        }
        finally
        {
            client.Sending = null;
        }
    }

    /// <summary>
    /// Ends the upstream's side of a transaction the client ended before its content was forwarded (RSET, a new EHLO,
    /// content refused here): RSET upstream now, so the upstream holds no open MAIL while the client idles or goes on.
    /// </summary>
    public async ValueTask EndAsync(SmtpSession session, SmtpEnvelope envelope)
    {
        if (!session.Items.TryGetValue(typeof(UpstreamTransaction), out var item) || item is not UpstreamTransaction transaction
            || !ReferenceEquals(transaction.Envelope, envelope))
        {
            return; // never reached the upstream, or already ended there (the content was sent)
        }

        transaction.Envelope = null; // the next MAIL (BeginAsync) resets the rest
        try
        {
            using var timeout = new CancellationTokenSource(options.UpstreamTimeout);
            await transaction.Client.CommandAsync("RSET", timeout.Token);
        }
        catch (Exception ex) when (IsUpstreamFailure(ex))
        {
            // The next relayed recipient connects afresh.
            GatewayLog.UpstreamFailed(logger, session.Id, "RSET", ex);
            await DropAsync(session);
        }
    }

    /// <summary>Ends the session's upstream connection (QUIT), if any.</summary>
    public static async ValueTask CloseAsync(SmtpSession session)
    {
        if (!session.Items.Remove(typeof(UpstreamTransaction), out var item) || item is not UpstreamTransaction transaction)
        {
            return;
        }

        using (transaction.Client)
        {
            try
            {
                using var quit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await transaction.Client.DisconnectAsync(quit: true, quit.Token);
            }
            catch (Exception ex) when (IsUpstreamFailure(ex))
            {
                // The upstream is gone already: nothing to close politely.
            }
        }
    }

    /// <summary>
    /// Writes <paramref name="prefix"/> and the content to a new spool file in <see cref="GatewayOptions.SpoolDirectory"/>
    /// (readable by this user only, as it holds mail; deleted when closed, however the forward ends) and returns it
    /// rewound, or null when the file could not be written (disk full, folder missing or not writable).
    /// </summary>
    private async Task<FileStream?> SpoolAsync(SmtpSession session, ReadOnlyMemory<byte> prefix, Stream content, CancellationToken cancellationToken)
    {
        var path = Path.Combine(options.SpoolDirectory ?? Path.GetTempPath(), "gateway-" + Guid.NewGuid().ToString("N") + ".eml");
        var spoolOptions = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Share = FileShare.None,
            Options = FileOptions.DeleteOnClose | FileOptions.Asynchronous,
            BufferSize = 64 * 1024,
        };
        if (!OperatingSystem.IsWindows())
        {
            spoolOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        FileStream? spool = null;
        try
        {
            spool = new FileStream(path, spoolOptions);
            await spool.WriteAsync(prefix, cancellationToken);
            await content.CopyToAsync(spool, cancellationToken);
            await spool.FlushAsync(cancellationToken);
            spool.Position = 0;
            return spool;
        }
        catch (Exception ex)
        {
            // Closing deletes the file now, also when the client went away mid-content (the exception then goes on).
            if (spool is not null)
            {
                await spool.DisposeAsync();
            }

            // A content the server aborted (client gone, size exceeded) is the server's to answer, not a spool failure.
            if (ex is MessageAbortedException || ex is not (IOException or UnauthorizedAccessException) || cancellationToken.IsCancellationRequested)
            {
                throw;
            }

            GatewayLog.SpoolFailed(logger, session.Id, ex);
            return null;
        }
    }

    private static bool IsUpstreamFailure(Exception ex) => ex is IOException or SocketException or SmtpProtocolException
        or SmtpCommandException or ServiceNotConnectedException or TimeoutException or OperationCanceledException or SslHandshakeException;

    private static ValueTask DropAsync(SmtpSession session)
    {
        if (session.Items.Remove(typeof(UpstreamTransaction), out var item) && item is UpstreamTransaction transaction)
        {
            transaction.Client.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private async Task<(UpstreamClient? Client, SmtpReply? Failure)> ConnectAsync(CancellationToken cancellationToken)
    {
        var client = new UpstreamClient
        {
            LocalDomain = options.ServerName,
            Timeout = (int)options.UpstreamTimeout.TotalMilliseconds,
            CheckCertificateRevocation = false,
        };
        // Opportunistic TLS takes any certificate (RFC 7435): it protects against passive listeners only.
        client.ServerCertificateValidationCallback = options.UpstreamTls == UpstreamTlsMode.Required ? ValidateCertificate : AnyCertificate;
        var socketOptions = options.UpstreamTls switch
        {
            UpstreamTlsMode.Required => SecureSocketOptions.StartTls,
            UpstreamTlsMode.Opportunistic => SecureSocketOptions.StartTlsWhenAvailable,
            _ => SecureSocketOptions.None,
        };
        try
        {
            await client.ConnectAsync(options.UpstreamHost, options.UpstreamPort, socketOptions, cancellationToken);
            return (client, null);
        }
        catch (NotSupportedException ex)
        {
            // MailKit stops after EHLO when STARTTLS is required and not offered: no MAIL went out in the clear.
            GatewayLog.UpstreamFailed(logger, "-", "STARTTLS", ex);
            client.Dispose();
            return (null, GatewayReplies.UpstreamTlsUnavailable);
        }
        catch (SslHandshakeException ex)
        {
            GatewayLog.UpstreamFailed(logger, "-", "TLS", ex);
            client.Dispose();
            return (null, GatewayReplies.UpstreamTlsFailed);
        }
        catch (Exception ex) when (IsUpstreamFailure(ex))
        {
            GatewayLog.UpstreamFailed(logger, "-", "connect", ex);
            client.Dispose();
            return (null, SmtpReply.UpstreamUnavailable);
        }
    }

    private static async Task BeginAsync(UpstreamTransaction transaction, SmtpEnvelope envelope, CancellationToken cancellationToken)
    {
        // The previous transaction, if any, was closed upstream by its end (EndAsync, or the content's own send).
        var client = transaction.Client;
        transaction.Envelope = envelope;
        transaction.Accepted.Clear();
        transaction.MailRefusal = CheckCapabilities(client, envelope);
        if (transaction.MailRefusal is null)
        {
            var response = await client.CommandAsync(MailCommand(client, envelope), cancellationToken);
            var reply = GatewayReplies.FromUpstream(response);
            transaction.MailRefusal = reply.IsPositive ? null : reply;
        }
    }

    private static SmtpReply? CheckCapabilities(UpstreamClient client, SmtpEnvelope envelope)
    {
        var capabilities = client.Capabilities;
        if (envelope.RequireTls && !(client.IsSecure && capabilities.HasFlag(SmtpCapabilities.RequireTLS)))
        {
            return GatewayReplies.RequireTlsUnavailable;
        }

        if (envelope.IsSmtpUtf8 && !capabilities.HasFlag(SmtpCapabilities.UTF8))
        {
            return GatewayReplies.SmtpUtf8Unavailable;
        }

        // BINARYMIME needs BDAT; the gateway forwards with DATA and converts nothing.
        return envelope.BodyType switch
        {
            SmtpBodyType.BinaryMime => GatewayReplies.ConversionRequired,
            SmtpBodyType.EightBitMime when !capabilities.HasFlag(SmtpCapabilities.EightBitMime) => GatewayReplies.ConversionRequired,
            _ => null,
        };
    }

    private static string MailCommand(UpstreamClient client, SmtpEnvelope envelope)
    {
        var capabilities = client.Capabilities;
        var command = new StringBuilder("MAIL FROM:<").Append(envelope.From?.Address).Append('>');
        if (envelope.DeclaredSize is { } size && capabilities.HasFlag(SmtpCapabilities.Size))
        {
            command.Append(CultureInfo.InvariantCulture, $" SIZE={size}");
        }

        if (envelope.BodyType == SmtpBodyType.EightBitMime)
        {
            command.Append(" BODY=8BITMIME");
        }

        if (envelope.IsSmtpUtf8)
        {
            command.Append(" SMTPUTF8");
        }

        if (capabilities.HasFlag(SmtpCapabilities.Dsn))
        {
            if (envelope.DsnReturn != DsnReturn.Unspecified)
            {
                command.Append(envelope.DsnReturn == DsnReturn.Full ? " RET=FULL" : " RET=HDRS");
            }

            if (envelope.DsnEnvelopeId is { } envelopeId)
            {
                command.Append(" ENVID=").Append(Xtext(envelopeId));
            }
        }

        if (envelope.RequireTls)
        {
            command.Append(" REQUIRETLS");
        }

        return command.ToString();
    }

    private static string RcptCommand(UpstreamClient client, SmtpRecipient recipient)
    {
        var command = new StringBuilder("RCPT TO:<").Append(recipient.Mailbox.Address).Append('>');
        if (client.Capabilities.HasFlag(SmtpCapabilities.Dsn))
        {
            if (recipient.DsnNotify != DsnNotify.Unspecified)
            {
                command.Append(" NOTIFY=").Append(recipient.DsnNotify.HasFlag(DsnNotify.Never) ? "NEVER" : string.Join(',', NotifyKeywords(recipient.DsnNotify)));
            }

            if (recipient.OriginalRecipient is { } original && Ascii.IsValid(original.Address))
            {
                command.Append(" ORCPT=").Append(original.AddressType).Append(';').Append(Xtext(original.Address));
            }
        }

        return command.ToString();
    }

    private static IEnumerable<string> NotifyKeywords(DsnNotify notify)
    {
        if (notify.HasFlag(DsnNotify.Success))
        {
            yield return "SUCCESS";
        }

        if (notify.HasFlag(DsnNotify.Failure))
        {
            yield return "FAILURE";
        }

        if (notify.HasFlag(DsnNotify.Delay))
        {
            yield return "DELAY";
        }
    }

    /// <summary>RFC 3461 §4 xtext: printable ASCII but '+' and '=' as is, every other octet as +HH.</summary>
    private static string Xtext(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is >= 33 and <= 126 and not (byte)'+' and not (byte)'=')
            {
                text.Append((char)b);
            }
            else
            {
                text.Append(CultureInfo.InvariantCulture, $"+{b:X2}");
            }
        }

        return text.ToString();
    }

    private bool ValidateCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (certificate is null || (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != SslPolicyErrors.None)
        {
            return false; // no certificate, or not for the upstream's name
        }

        if (_trustedCas is null)
        {
            return errors == SslPolicyErrors.None;
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trustedCas);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                custom.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        return custom.Build(certificate as X509Certificate2 ?? X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    private static bool AnyCertificate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors) => certificate is not null;

    private static X509Certificate2Collection? LoadCas(string? path)
    {
        if (path is null)
        {
            return null;
        }

        var cas = new X509Certificate2Collection();
        cas.ImportFromPemFile(path);
        return cas;
    }
}
