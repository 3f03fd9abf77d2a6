using System.Buffers;
using System.Buffers.Text;
using System.Text;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Diagnostics;

namespace StartTls.Smtp.Protocol;

/// <summary>AUTH (RFC 4954): mechanism choice, the 334 challenge loop, and the failure policy.</summary>
internal sealed partial class SmtpConnection
{
    private ISaslExchange? _sasl;
    private SaslMechanism? _saslMechanism;
    private string? _saslPendingIdentity;
    private bool _saslFailAfterResponse;
    private int _authFailures;
    private byte[]? _channelBinding;
    private bool _channelBindingComputed;
    private string? _authMechanismsCache;
    private bool _authMechanismsSecure;

    /// <summary>True while a SASL exchange waits for the client's next response line.</summary>
    private bool InSaslExchange => _sasl is not null;

    /// <summary>AUTH is offered on this session: a hook is set, and TLS is up or the operator allows AUTH without it.</summary>
    private bool OffersAuth => _settings.Authentication is { } auth && (_tls is not null || auth.AllowInsecureAuthentication);

    /// <summary>The mechanisms to advertise now, space-separated, or <see langword="null"/> for none.</summary>
    private string? AdvertisedMechanisms()
    {
        if (!OffersAuth)
        {
            return null;
        }

        var secure = _tls is not null;
        if (_authMechanismsCache is not null && _authMechanismsSecure == secure)
        {
            return _authMechanismsCache;
        }

        var context = CreateSaslContext();
        var names = new StringBuilder();
        foreach (var mechanism in _settings.Authentication!.Mechanisms)
        {
            if (IsUsable(mechanism, context))
            {
                names.Append(names.Length == 0 ? "" : " ").Append(mechanism.Name);
            }
        }

        _authMechanismsSecure = secure;
        _authMechanismsCache = names.Length == 0 ? null : names.ToString();
        return _authMechanismsCache;
    }

    private bool IsUsable(SaslMechanism mechanism, SaslContext context)
        => (!mechanism.RequiresTls || _tls is not null)
            && (!mechanism.ExposesSecret || _tls is not null || _settings.Authentication!.AllowInsecureAuthentication)
            && mechanism.IsAvailable(context);

    private SaslContext CreateSaslContext()
    {
        Func<string, byte[]?>? binding = null;
        if (_tls is not null)
        {
            binding = type => type switch
            {
                Tls.ChannelBinding.TlsServerEndPointType => ServerEndPointBinding(),
                Tls.ChannelBinding.TlsUniqueType => Tls.ChannelBinding.TlsUnique(_tls?.Stream),
                _ => null,
            };
        }

        return new SaslContext(_session, _settings.ServerName, _settings.Authentication!, binding);
    }

    /// <summary>The <c>tls-server-end-point</c> binding of this TLS session, hashed once (RFC 5929 §4.1).</summary>
    private byte[]? ServerEndPointBinding()
    {
        if (_channelBindingComputed)
        {
            return _channelBinding;
        }

        if (_tls?.Stream.LocalCertificate is { } local)
        {
            var certificate = local as System.Security.Cryptography.X509Certificates.X509Certificate2
                ?? System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadCertificate(local.GetRawCertData());
            _channelBinding = Tls.ChannelBinding.TlsServerEndPoint(certificate);
        }

        _channelBindingComputed = true;
        return _channelBinding;
    }

    private ValueTask<ConnectionAction> Auth(ReadOnlySpan<byte> arguments)
    {
        var auth = _settings.Authentication;
        if (auth is null)
        {
            return Done(Error(Replies.NotImplemented));
        }

        if (!OffersAuth)
        {
            // RFC 4954 §4 / RFC 3207: never a 334 before TLS, and the credential hooks are not called.
            return Done(Error(Replies.MustStartTls));
        }

        if (!_greeted || !_session.IsExtended)
        {
            // AUTH is an ESMTP extension: it exists only after EHLO (and after the new EHLO inside TLS).
            return Done(Error(SaslReplies.SendEhloFirst));
        }

        if (_session.IsAuthenticated)
        {
            return Done(Error(SaslReplies.AlreadyAuthenticated));
        }

        if (_transaction is not null)
        {
            return Done(Error(SaslReplies.InTransaction));
        }

        var space = arguments.IndexOf((byte)' ');
        var name = space < 0 ? arguments : arguments[..space];
        var initial = space < 0 ? default : arguments[(space + 1)..];
        if (name.IsEmpty || (space >= 0 && (initial.IsEmpty || initial.Contains((byte)' '))))
        {
            return Done(Error(SaslReplies.Syntax));
        }

        var context = CreateSaslContext();
        SaslMechanism? mechanism = null;
        foreach (var candidate in auth.Mechanisms)
        {
            if (Ascii.EqualsIgnoreCase(name, candidate.Name) && IsUsable(candidate, context))
            {
                mechanism = candidate;
                break;
            }
        }

        if (mechanism is null)
        {
            return Done(Error(SaslReplies.UnknownMechanism));
        }

        byte[] response = [];
        if (space >= 0)
        {
            if (!mechanism.IsClientFirst)
            {
                return Done(Error(SaslReplies.InitialResponseNotAllowed));
            }

            // "=" is an empty initial response (RFC 4954 §4).
            if (!(initial.Length == 1 && initial[0] == (byte)'=') && !TryDecodeBase64(initial, out response))
            {
                return Done(Error(SaslReplies.BadBase64));
            }
        }

        return BeginAuthAsync(mechanism, context, response, emptyInitialResponse: space >= 0 && response.Length == 0);
    }

    private async ValueTask<ConnectionAction> BeginAuthAsync(SaslMechanism mechanism, SaslContext context, byte[] response, bool emptyInitialResponse)
    {
        if (_settings.Authentication!.Throttle is { } throttle)
        {
            var refusal = await InvokeHookAsync(HookKind.AuthenticationThrottle, throttle, static (t, c, ct) => t.OnAttemptAsync(c._session, ct), SaslReplies.TemporaryFailure, SaslReplies.TemporaryFailure.Code).ConfigureAwait(false);
            if (refusal is not null)
            {
                return Error(refusal);
            }
        }

        _saslMechanism = mechanism;
        return await StepAsync(mechanism.CreateExchange(context), response, emptyInitialResponse).ConfigureAwait(false);
    }

    /// <summary>Handles a line that answers a 334 challenge.</summary>
    private ValueTask<ConnectionAction> SaslResponse(ReadOnlySpan<byte> line)
    {
        var exchange = _sasl!;
        if (line.Length == 1 && line[0] == (byte)'*')
        {
            EndSasl();
            return Done(Error(SaslReplies.Cancelled));
        }

        if (_saslFailAfterResponse)
        {
            // The client's answer to an error challenge (OAUTHBEARER's %x01) is read, then the exchange fails.
            EndSasl();
            return AuthFailedAsync(null);
        }

        if (!TryDecodeBase64(line, out var response))
        {
            EndSasl();
            return Done(Error(SaslReplies.BadBase64));
        }

        if (_saslPendingIdentity is { } identity)
        {
            // The client has seen our additional success data (SCRAM's server-final) and must answer with nothing.
            EndSasl();
            return response.Length == 0 ? AuthSucceededAsync(identity) : AuthFailedAsync(SaslReplies.Malformed);
        }

        return StepAsync(exchange, response);
    }

    private async ValueTask<ConnectionAction> StepAsync(ISaslExchange exchange, byte[] response, bool emptyInitialResponse = false)
    {
        // A failing credential hook becomes 454: the client may retry later.
        var outcome = await InvokeHookAsync<(ISaslExchange exchange, byte[] response, bool emptyInitialResponse), SaslStepResult?>(HookKind.Authentication, (exchange, response, emptyInitialResponse), static async (s, _, ct) =>
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
            EndSasl();
            return Error(SaslReplies.TemporaryFailure);
        }

        switch (result.Kind)
        {
            case SaslStepKind.Continue:
                _sasl = exchange;
                WriteChallenge(result.Challenge!);
                return ConnectionAction.Continue;
            case SaslStepKind.Success when result.Challenge is not null:
                _sasl = exchange;
                _saslPendingIdentity = result.Identity;
                WriteChallenge(result.Challenge);
                return ConnectionAction.Continue;
            case SaslStepKind.Success:
                EndSasl();
                return await AuthSucceededAsync(result.Identity!).ConfigureAwait(false);
            case SaslStepKind.FailureWithChallenge:
                _sasl = exchange;
                _saslFailAfterResponse = true;
                WriteChallenge(result.Challenge!);
                return ConnectionAction.Continue;
            default:
                EndSasl();
                return await AuthFailedAsync(result.FailureReply).ConfigureAwait(false);
        }
    }

    private async ValueTask<ConnectionAction> AuthSucceededAsync(string identity)
    {
        _session.AuthenticatedIdentity = identity;
        _session.AuthenticationMechanism = _saslMechanism?.Name;
        Log.Authenticated(_services.Logger, _session.Id, _saslMechanism?.Name ?? "?");
        _services.Metrics.Authentications.Add(1, _endpoint.MetricTag, new KeyValuePair<string, object?>("result", "success"));
        await NotifyThrottleAsync(true).ConfigureAwait(false);
        Write(SaslReplies.Succeeded);
        return ConnectionAction.Continue;
    }

    private async ValueTask<ConnectionAction> AuthFailedAsync(SmtpReply? reply)
    {
        Log.AuthenticationFailed(_services.Logger, _session.Id, _saslMechanism?.Name ?? "?");
        _services.Metrics.Authentications.Add(1, _endpoint.MetricTag, new KeyValuePair<string, object?>("result", "failure"));
        await NotifyThrottleAsync(false).ConfigureAwait(false);
        if (++_authFailures >= _settings.Authentication!.MaxFailures)
        {
            Write(reply ?? SaslReplies.InvalidCredentials);
            Write(SaslReplies.TooManyFailures);
            return ConnectionAction.Close;
        }

        return Error(reply ?? SaslReplies.InvalidCredentials);
    }

    private async ValueTask NotifyThrottleAsync(bool succeeded)
    {
        if (_settings.Authentication?.Throttle is { } throttle)
        {
            await InvokeNotificationAsync(HookKind.AuthenticationThrottle, (throttle, succeeded), static (s, c) => s.throttle.OnCompletedAsync(c._session, s.succeeded)).ConfigureAwait(false);
        }
    }

    private void EndSasl()
    {
        _sasl = null;
        _saslPendingIdentity = null;
        _saslFailAfterResponse = false;
    }

    /// <summary>Forgets every AUTH fact: at STARTTLS, a pre-TLS identity must not survive (RFC 3207 §4.2, docs/threat-model.md T13).</summary>
    private void ResetAuthentication()
    {
        EndSasl();
        _saslMechanism = null;
        _authMechanismsCache = null;
        _session.AuthenticatedIdentity = null;
        _session.AuthenticationMechanism = null;
    }

    private void WriteChallenge(byte[] challenge)
    {
        // "334 " base64 CRLF; a challenge never carries an enhanced code (RFC 2034 covers 2xx/4xx/5xx only).
        var length = 4 + Base64.GetMaxEncodedToUtf8Length(challenge.Length) + 2;
        var span = _output.GetSpan(length);
        "334 "u8.CopyTo(span);
        Base64.EncodeToUtf8(challenge, span[4..], out _, out var written);
        span[4 + written] = (byte)'\r';
        span[5 + written] = (byte)'\n';
        _output.Advance(6 + written);
        _pendingFlush = true;
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
}
