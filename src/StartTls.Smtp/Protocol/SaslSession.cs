using System.Buffers;
using System.Buffers.Text;
using System.Text;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Diagnostics;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// The AUTH side of one SMTP session (RFC 4954): which mechanisms to advertise, mechanism choice, the 334 challenge
/// loop, the failure policy and the channel bindings SCRAM-PLUS asks for.
/// </summary>
/// <remarks>
/// The connection creates it when AUTH is configured and first needed, and routes every line to
/// <see cref="SaslResponse"/> while <see cref="InExchange"/>. It writes its replies and counts errors through the
/// connection, which stays the one owner of the output, the error limit and the command loop.
/// </remarks>
internal sealed class SaslSession
{
    private readonly SmtpConnection _connection;
    private readonly ServerServices _services;
    private readonly ProtocolSettings _settings;
    private readonly SmtpAuthenticationOptions _authentication;
    private readonly SmtpSession _session;
    private readonly EndpointSettings _endpoint;

    // The exchange in progress (between 334 challenges) and what its next response decides.
    private ISaslExchange? _exchange;
    private SaslMechanism? _mechanism;
    private string? _pendingIdentity;
    private bool _failAfterResponse;

    // Across attempts: the failure count (for MaxFailures), and what is computed once per TLS state.
    private int _failures;
    private byte[]? _channelBinding;
    private bool _channelBindingComputed;
    private string? _advertised;
    private bool _advertisedSecure;

    public SaslSession(SmtpConnection connection, ServerServices services, SmtpSession session, EndpointSettings endpoint)
    {
        _connection = connection;
        _services = services;
        _settings = services.Settings;
        _authentication = _settings.Authentication ?? throw new ArgumentException("AUTH is not configured.", nameof(services));
        _session = session;
        _endpoint = endpoint;
    }

    /// <summary>True while a SASL exchange waits for the client's next response line.</summary>
    public bool InExchange => _exchange is not null;

    /// <summary>AUTH is offered now: TLS is up, or the operator allows AUTH without it.</summary>
    public bool IsOffered => _connection.Tls is not null || _authentication.AllowInsecureAuthentication;

    /// <summary>The mechanisms to advertise now, space-separated, or <see langword="null"/> for none.</summary>
    public string? AdvertisedMechanisms()
    {
        if (!IsOffered)
        {
            return null;
        }

        var secure = _connection.Tls is not null;
        if (_advertised is not null && _advertisedSecure == secure)
        {
            return _advertised;
        }

        var context = CreateSaslContext();
        var names = new StringBuilder();
        foreach (var mechanism in _authentication.Mechanisms)
        {
            if (IsUsable(mechanism, context))
            {
                names.Append(names.Length == 0 ? "" : " ").Append(mechanism.Name);
            }
        }

        _advertisedSecure = secure;
        _advertised = names.Length == 0 ? null : names.ToString();
        return _advertised;
    }

    private bool IsUsable(SaslMechanism mechanism, SaslContext context)
        => _endpoint.AllowsMechanism(mechanism.Name)
            && (!mechanism.RequiresTls || _connection.Tls is not null)
            && (!mechanism.ExposesSecret || _connection.Tls is not null || _authentication.AllowInsecureAuthentication)
            && mechanism.IsAvailable(context);

    private SaslContext CreateSaslContext()
    {
        Func<string, byte[]?>? binding = null;
        if (_connection.Tls is not null)
        {
            binding = type => type switch
            {
                ChannelBinding.TlsServerEndPointType => ServerEndPointBinding(),
                ChannelBinding.TlsUniqueType => ChannelBinding.TlsUnique(_connection.Tls?.Stream),
                _ => null,
            };
        }

        return new SaslContext(_session, _settings.ServerName, _authentication, binding);
    }

    /// <summary>The <c>tls-server-end-point</c> binding of this TLS session, hashed once (RFC 5929 §4.1).</summary>
    private byte[]? ServerEndPointBinding()
    {
        if (_channelBindingComputed)
        {
            return _channelBinding;
        }

        if (_connection.Tls?.Stream.LocalCertificate is { } local)
        {
            var certificate = local as System.Security.Cryptography.X509Certificates.X509Certificate2
                ?? System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(local.GetRawCertData());
            _channelBinding = ChannelBinding.TlsServerEndPoint(certificate);
        }

        _channelBindingComputed = true;
        return _channelBinding;
    }

    /// <summary>
    /// The AUTH command: checks the session may authenticate now, picks the mechanism, decodes an initial response
    /// and starts the exchange. <paramref name="greeted"/> and <paramref name="inTransaction"/> are the connection's
    /// state, which AUTH depends on but does not own.
    /// </summary>
    public ValueTask<ConnectionAction> Auth(ReadOnlySpan<byte> arguments, bool greeted, bool inTransaction)
    {
        if (!IsOffered)
        {
            // RFC 4954 §4 / RFC 3207: never a 334 before TLS, and the credential hooks are not called.
            return Done(_connection.Error(Replies.MustStartTls));
        }

        if (!greeted || !_session.IsExtended)
        {
            // AUTH is an ESMTP extension: it exists only after EHLO (and after the new EHLO inside TLS).
            return Done(_connection.Error(SaslReplies.SendEhloFirst));
        }

        if (_session.IsAuthenticated)
        {
            return Done(_connection.Error(SaslReplies.AlreadyAuthenticated));
        }

        if (inTransaction)
        {
            return Done(_connection.Error(SaslReplies.InTransaction));
        }

        var space = arguments.IndexOf((byte)' ');
        var name = space < 0 ? arguments : arguments[..space];
        var initial = space < 0 ? default : arguments[(space + 1)..];
        if (name.IsEmpty || (space >= 0 && (initial.IsEmpty || initial.Contains((byte)' '))))
        {
            return Done(_connection.Error(SaslReplies.Syntax));
        }

        var context = CreateSaslContext();
        SaslMechanism? mechanism = null;
        foreach (var candidate in _authentication.Mechanisms)
        {
            if (Ascii.EqualsIgnoreCase(name, candidate.Name) && IsUsable(candidate, context))
            {
                mechanism = candidate;
                break;
            }
        }

        if (mechanism is null)
        {
            return Done(_connection.Error(SaslReplies.UnknownMechanism));
        }

        byte[] response = [];
        if (space >= 0)
        {
            if (!mechanism.IsClientFirst)
            {
                return Done(_connection.Error(SaslReplies.InitialResponseNotAllowed));
            }

            // "=" is an empty initial response (RFC 4954 §4).
            if (!(initial.Length == 1 && initial[0] == (byte)'=') && !TryDecodeBase64(initial, out response))
            {
                return Done(_connection.Error(SaslReplies.BadBase64));
            }
        }

        return BeginAuthAsync(mechanism, context, response, emptyInitialResponse: space >= 0 && response.Length == 0);
    }

    private async ValueTask<ConnectionAction> BeginAuthAsync(SaslMechanism mechanism, SaslContext context, byte[] response, bool emptyInitialResponse)
    {
        if (_authentication.Throttle is { } throttle)
        {
            var refusal = await _connection.InvokeHookAsync(HookKind.AuthenticationThrottle, throttle, static (t, c, ct) => t.OnAttemptAsync(c.Session, ct), SaslReplies.TemporaryFailure, SaslReplies.TemporaryFailure.Code).ConfigureAwait(false);
            if (refusal is not null)
            {
                return _connection.Error(refusal);
            }
        }

        _mechanism = mechanism;
        return await StepAsync(mechanism.CreateExchange(context), response, emptyInitialResponse).ConfigureAwait(false);
    }

    /// <summary>Handles a line that answers a 334 challenge (only while <see cref="InExchange"/>).</summary>
    public ValueTask<ConnectionAction> SaslResponse(ReadOnlySpan<byte> line)
    {
        var exchange = _exchange!;
        if (line.Length == 1 && line[0] == (byte)'*')
        {
            EndExchange();
            return Done(_connection.Error(SaslReplies.Cancelled));
        }

        if (_failAfterResponse)
        {
            // The client's answer to an error challenge (OAUTHBEARER's %x01) is read, then the exchange fails.
            EndExchange();
            return AuthFailedAsync(null);
        }

        if (!TryDecodeBase64(line, out var response))
        {
            EndExchange();
            return Done(_connection.Error(SaslReplies.BadBase64));
        }

        if (_pendingIdentity is { } identity)
        {
            // The client has seen our additional success data (SCRAM's server-final) and must answer with nothing.
            EndExchange();
            return response.Length == 0 ? AuthSucceededAsync(identity) : AuthFailedAsync(SaslReplies.Malformed);
        }

        return StepAsync(exchange, response);
    }

    private async ValueTask<ConnectionAction> StepAsync(ISaslExchange exchange, byte[] response, bool emptyInitialResponse = false)
    {
        // A failing credential hook becomes 454: the client may retry later.
        var outcome = await _connection.InvokeHookAsync<(ISaslExchange exchange, byte[] response, bool emptyInitialResponse), SaslStepResult?>(HookKind.Authentication, (exchange, response, emptyInitialResponse), static async (s, _, ct) =>
        {
            var step = await s.exchange.StepAsync(s.response, ct).ConfigureAwait(false);
            if (s.emptyInitialResponse && step.Kind == SaslStepKind.Continue && step.Challenge is { Length: 0 })
            {
                // "=" is an initial response of zero length (RFC 4954 §4). An empty challenge asks for the initial
                // response, which the client has already sent: answer it with that empty response, never with "334 ".
                step = await s.exchange.StepAsync(s.response, ct).ConfigureAwait(false);
            }

            return step;
        }, null, SaslReplies.TemporaryFailure.Code).ConfigureAwait(false);
        if (outcome is not { } result)
        {
            EndExchange();
            return _connection.Error(SaslReplies.TemporaryFailure);
        }

        switch (result.Kind)
        {
            case SaslStepKind.Continue:
                _exchange = exchange;
                WriteChallenge(result.Challenge!);
                return ConnectionAction.Continue;
            case SaslStepKind.Success when result.Challenge is not null:
                _exchange = exchange;
                _pendingIdentity = result.Identity;
                WriteChallenge(result.Challenge);
                return ConnectionAction.Continue;
            case SaslStepKind.Success:
                EndExchange();
                return await AuthSucceededAsync(result.Identity!).ConfigureAwait(false);
            case SaslStepKind.FailureWithChallenge:
                _exchange = exchange;
                _failAfterResponse = true;
                WriteChallenge(result.Challenge!);
                return ConnectionAction.Continue;
            default:
                EndExchange();
                return await AuthFailedAsync(result.FailureReply).ConfigureAwait(false);
        }
    }

    private async ValueTask<ConnectionAction> AuthSucceededAsync(string identity)
    {
        _session.AuthenticatedIdentity = identity;
        _session.AuthenticationMechanism = _mechanism?.Name;
        Log.Authenticated(_services.Logger, _mechanism?.Name ?? "?");
        _services.Metrics.Authentications.Add(1, _endpoint.MetricTag, new KeyValuePair<string, object?>("result", "success"));
        await NotifyThrottleAsync(true).ConfigureAwait(false);
        if (await _connection.CheckAuthenticatedAsync().ConfigureAwait(false) is { } refusal)
        {
            // The application's veto of valid credentials: the session stays unauthenticated.
            _session.AuthenticatedIdentity = null;
            _session.AuthenticationMechanism = null;
            return _connection.Error(refusal);
        }

        _connection.Write(SaslReplies.Succeeded);
        return ConnectionAction.Continue;
    }

    private async ValueTask<ConnectionAction> AuthFailedAsync(SmtpReply? reply)
    {
        Log.AuthenticationFailed(_services.Logger, _mechanism?.Name ?? "?");
        _services.Metrics.Authentications.Add(1, _endpoint.MetricTag, new KeyValuePair<string, object?>("result", "failure"));
        await NotifyThrottleAsync(false).ConfigureAwait(false);
        if (++_failures >= _authentication.MaxFailures)
        {
            _connection.Write(reply ?? SaslReplies.InvalidCredentials);
            _connection.Write(SaslReplies.TooManyFailures);
            return ConnectionAction.Close;
        }

        return _connection.Error(reply ?? SaslReplies.InvalidCredentials);
    }

    private async ValueTask NotifyThrottleAsync(bool succeeded)
    {
        if (_authentication.Throttle is { } throttle)
        {
            await _connection.InvokeNotificationAsync(HookKind.AuthenticationThrottle, (throttle, succeeded), static (s, c) => s.throttle.OnCompletedAsync(c.Session, s.succeeded)).ConfigureAwait(false);
        }
    }

    /// <summary>Ends the exchange in progress, if any (cancelled, failed, or its line was too long).</summary>
    public void EndExchange()
    {
        _exchange = null;
        _pendingIdentity = null;
        _failAfterResponse = false;
    }

    /// <summary>Forgets every AUTH fact: at STARTTLS, a pre-TLS identity must not survive (RFC 3207 §4.2, docs/threat-model.md T13).</summary>
    public void Reset()
    {
        EndExchange();
        _mechanism = null;
        _advertised = null;
        _session.AuthenticatedIdentity = null;
        _session.AuthenticationMechanism = null;
    }

    private void WriteChallenge(byte[] challenge)
    {
        // "334 " base64 CRLF; a challenge never carries an enhanced code (RFC 2034 covers 2xx/4xx/5xx only).
        var length = 4 + Base64.GetMaxEncodedToUtf8Length(challenge.Length) + 2;
        var span = _connection.GetReplySpan(length);
        "334 "u8.CopyTo(span);
        Base64.EncodeToUtf8(challenge, span[4..], out _, out var written);
        span[4 + written] = (byte)'\r';
        span[5 + written] = (byte)'\n';
        _connection.AdvanceReply(6 + written);
    }

    private static bool TryDecodeBase64(ReadOnlySpan<byte> encoded, out byte[] decoded)
    {
        decoded = [];
        if (encoded.IsEmpty)
        {
            return true;
        }

        // Strict: no whitespace, correct padding, nothing after it.
        foreach (var b in encoded)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                return false;
            }
        }

        var buffer = new byte[Base64.GetMaxDecodedFromUtf8Length(encoded.Length)];
        if (Base64.DecodeFromUtf8(encoded, buffer, out var consumed, out var written) != OperationStatus.Done || consumed != encoded.Length)
        {
            return false;
        }

        decoded = buffer.AsSpan(0, written).ToArray();
        return true;
    }

    private static ValueTask<ConnectionAction> Done(ConnectionAction action) => new(action);
}
