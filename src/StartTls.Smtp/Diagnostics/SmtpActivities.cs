using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Authentication;
using StartTls.Smtp.Protocol;

namespace StartTls.Smtp.Diagnostics;

/// <summary>
/// The server's spans on the <see cref="SmtpTelemetry.ActivitySourceName"/> source: one per session (kind Server, the
/// root of its own trace) and one per mail transaction under it. Every method takes the activity that may be
/// <see langword="null"/>: with no listener nothing is created, tagged or allocated. Tags never carry an address's
/// local part, an authenticated identity or message content. See docs/observability.md.
/// </summary>
internal static class SmtpActivities
{
    public const string SessionName = "smtp.session";

    public const string TransactionName = "smtp.transaction";

    private static readonly ActivitySource Source = new(SmtpTelemetry.ActivitySourceName, "1.0");

    /// <summary>Starts the span of a session, or returns <see langword="null"/> when nobody listens (or it is not sampled).</summary>
    public static Activity? StartSession(SmtpSession session, EndpointSettings endpoint)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        // A session is a trace of its own: not a child of whatever started the listener, which may live for days.
        var previous = Activity.Current;
        Activity.Current = null;
        var activity = Source.StartActivity(SessionName, ActivityKind.Server);
        if (activity is null)
        {
            Activity.Current = previous;
            return null;
        }

        if (activity.IsAllDataRequested)
        {
            activity.SetTag("network.protocol.name", "smtp");
            activity.SetTag(SmtpTelemetry.EndpointTag, endpoint.Name);
            activity.SetTag("smtp.session.id", session.Id);
            SetClient(activity, session);
        }

        return activity;
    }

    /// <summary>
    /// Records the client's and the server's addresses: at the start, and again once a PROXY header or XCLIENT has
    /// named the real client.
    /// </summary>
    public static void SetClient(Activity? activity, SmtpSession session)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        switch (session.RemoteEndPoint)
        {
            case IPEndPoint remote:
                activity.SetTag("network.transport", "tcp");
                activity.SetTag("network.type", remote.AddressFamily == AddressFamily.InterNetworkV6 && !remote.Address.IsIPv4MappedToIPv6 ? "ipv6" : "ipv4");
                activity.SetTag("client.address", Unmapped(remote.Address).ToString());
                activity.SetTag("client.port", remote.Port);
                break;
            case UnixDomainSocketEndPoint:
                activity.SetTag("network.transport", "unix");
                break;
        }

        if (session.LocalEndPoint is IPEndPoint local)
        {
            activity.SetTag("server.address", Unmapped(local.Address).ToString());
            activity.SetTag("server.port", local.Port);
        }
    }

    /// <summary>Records the TLS facts once the handshake has succeeded (STARTTLS or implicit TLS).</summary>
    public static void TlsEstablished(Activity? activity, SmtpTlsInfo tls)
    {
        if (activity is null || !activity.IsAllDataRequested)
        {
            return;
        }

        activity.SetTag("tls.established", true);
        activity.SetTag("tls.protocol.name", "tls");
        activity.SetTag("tls.protocol.version", TlsVersion(tls.Protocol));
        activity.SetTag("tls.cipher", tls.CipherSuite.ToString());
        if (!string.IsNullOrEmpty(tls.ServerName))
        {
            // OpenTelemetry replaced tls.client.server_name (SNI) with server.address: the name the client asked for.
            activity.SetTag("server.address", tls.ServerName);
        }
    }

    /// <summary>Notes why the session or transaction failed (the first reason wins) and marks the span as an error.</summary>
    public static void Fail(Activity? activity, string errorType)
    {
        if (activity is null || activity.Status == ActivityStatusCode.Error)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error);
        activity.SetTag("error.type", errorType);
    }

    /// <summary>Marks a transaction whose sender was refused at MAIL: the refusal's reply code is its <c>error.type</c>.</summary>
    public static void SenderRefused(Activity? activity, int replyCode)
    {
        if (activity is null)
        {
            return;
        }

        Fail(activity, replyCode.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Ends a session's span with what the whole session came to.</summary>
    public static void StopSession(Activity? activity, SmtpSession session)
    {
        if (activity is null)
        {
            return;
        }

        if (activity.IsAllDataRequested)
        {
            activity.SetTag("smtp.authenticated", session.IsAuthenticated);
            activity.SetTag("smtp.session.messages", session.MessageCount);
        }

        activity.Stop();
    }

    /// <summary>Starts the span of a mail transaction under its session's, or returns <see langword="null"/>.</summary>
    public static Activity? StartTransaction(Activity? session, SmtpSession facts, EndpointSettings endpoint)
    {
        if (session is null)
        {
            return null;
        }

        var activity = Source.StartActivity(TransactionName, ActivityKind.Internal, session.Context);
        if (activity is { IsAllDataRequested: true })
        {
            activity.SetTag(SmtpTelemetry.EndpointTag, endpoint.Name);
            activity.SetTag("smtp.session.id", facts.Id);
            activity.SetTag("smtp.authenticated", facts.IsAuthenticated);
        }

        return activity;
    }

    /// <summary>Records the reply to a message's content and its size, and marks anything but 2xx as an error.</summary>
    public static void MessageReplied(Activity? activity, int replyCode, long size)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetTag("smtp.response.status_code", replyCode);
        activity.SetTag("smtp.message.size", size);
        if (replyCode >= 400)
        {
            Fail(activity, replyCode.ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>Ends a transaction's span; <paramref name="session"/> becomes the current activity again.</summary>
    public static void StopTransaction(Activity? activity, Activity? session)
    {
        if (activity is null)
        {
            return;
        }

        activity.Stop();
        Activity.Current = session;
    }

    private static IPAddress Unmapped(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private static string TlsVersion(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls12 => "1.2",
        SslProtocols.Tls13 => "1.3",
        _ => protocol.ToString(),
    };
}
