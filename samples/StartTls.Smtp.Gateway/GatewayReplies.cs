using System.Text;
using MailKit.Net.Smtp;

namespace StartTls.Smtp.Gateway;

/// <summary>The gateway's own replies, and the upstream's replies passed back to the client.</summary>
internal static class GatewayReplies
{
    /// <summary>The upstream does not offer STARTTLS but <c>--upstream-tls required</c> (RFC 5248 X.7.10 "Encryption needed").</summary>
    public static SmtpReply UpstreamTlsUnavailable { get; } = new(451, "4.7.10", "Next hop does not offer STARTTLS, try again later");

    /// <summary>The upstream's certificate did not validate, or its TLS handshake failed (X.7.5 "Cryptographic failure").</summary>
    public static SmtpReply UpstreamTlsFailed { get; } = new(451, "4.7.5", "TLS to the next hop failed, try again later");

    /// <summary>REQUIRETLS mail cannot go on over this upstream path (RFC 8689 §5).</summary>
    public static SmtpReply RequireTlsUnavailable { get; } = new(550, "5.7.30", "REQUIRETLS support required on the next hop");

    /// <summary>SMTPUTF8 mail cannot go on: the upstream does not offer SMTPUTF8 (RFC 6531 §3.2).</summary>
    public static SmtpReply SmtpUtf8Unavailable { get; } = new(553, "5.6.7", "The next hop does not accept SMTPUTF8 mail");

    /// <summary>8BITMIME or BINARYMIME mail cannot go on unconverted; the gateway does not convert.</summary>
    public static SmtpReply ConversionRequired { get; } = new(554, "5.6.3", "The next hop does not accept this body type");

    /// <summary>The upstream refused, when the message was sent, a recipient it had accepted at RCPT time.</summary>
    public static SmtpReply RecipientChangedUpstream { get; } = new(451, "4.3.0", "The next hop refused a recipient it had accepted, try again later");

    /// <summary>
    /// The upstream's reply as ours: its code, its enhanced status code and its text (the code must be 2xx-5xx; a
    /// malformed upstream reply becomes <see cref="SmtpReply.UpstreamUnavailable"/>).
    /// </summary>
    public static SmtpReply FromUpstream(SmtpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var code = (int)response.StatusCode;
        if (code is < 200 or > 599)
        {
            return SmtpReply.UpstreamUnavailable;
        }

        string? enhanced = null;
        var text = new StringBuilder();
        foreach (var line in (response.Response ?? string.Empty).Split('\n'))
        {
            var rest = line.TrimEnd('\r');
            var space = rest.IndexOf(' ', StringComparison.Ordinal);
            var first = space > 0 ? rest[..space] : rest;
            if (IsEnhancedCode(first, code))
            {
                enhanced ??= first;
                rest = space > 0 ? rest[(space + 1)..] : string.Empty;
            }

            text.Append(text.Length > 0 ? "\n" : string.Empty).Append(rest);
        }

        return new SmtpReply(code, enhanced, text.Length > 0 ? text.ToString() : "Upstream said " + code.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    private static bool IsEnhancedCode(string value, int code)
    {
        var parts = value.Split('.');
        return parts.Length == 3 && parts[0].Length == 1 && parts[0][0] - '0' == code / 100
            && parts[1].Length is >= 1 and <= 3 && parts[1].All(char.IsAsciiDigit)
            && parts[2].Length is >= 1 and <= 3 && parts[2].All(char.IsAsciiDigit);
    }
}
