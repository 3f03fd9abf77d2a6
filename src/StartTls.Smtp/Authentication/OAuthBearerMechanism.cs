using System.Text;

namespace StartTls.Smtp.Authentication;

/// <summary>
/// OAUTHBEARER (RFC 7628): <c>gs2-header %x01 *(key=value %x01) %x01</c> with <c>auth=Bearer token</c>, validated by
/// <see cref="IOAuthTokenValidator"/>. A refused token gets the JSON error challenge of RFC 7628 §3.2.2, and the exchange
/// fails once the client has answered it. Channel binding (<c>p=</c>) is not supported.
/// </summary>
internal sealed class OAuthBearerMechanism() : BearerTokenMechanism(TryParse, Challenge)
{
    private static readonly byte[] Challenge = """{"status":"invalid_token","schemes":"bearer"}"""u8.ToArray();

    public override string Name => "OAUTHBEARER";

    /// <summary>Parses the client's message into the authorization identity (<c>a=</c>, or null) and the bearer token.</summary>
    internal static bool TryParse(ReadOnlySpan<byte> bytes, out string? userName, out string token)
    {
        userName = null;
        token = "";
        if (!TryDecode(bytes, out var text))
        {
            return false;
        }

        // gs2-header: ("n" / "y") "," [ "a=" saslname ] ","
        if (!(text.StartsWith("n,", StringComparison.Ordinal) || text.StartsWith("y,", StringComparison.Ordinal)))
        {
            return false;
        }

        var end = text.IndexOf(',', 2);
        if (end < 0)
        {
            return false;
        }

        var authzid = text.AsSpan(2, end - 2);
        if (!authzid.IsEmpty && (!authzid.StartsWith("a=", StringComparison.Ordinal) || !SaslName.TryDecode(authzid[2..], out userName)))
        {
            return false;
        }

        // kvsep *kvpair kvsep
        var rest = text.AsSpan(end + 1);
        if (rest.IsEmpty || rest[0] != '\x01' || !TryParsePairs(rest[1..], out var pairs))
        {
            return false;
        }

        // host= and port= are informational and not checked: MailKit, for one, sends "port=-1" when it has no URI port.
        return pairs.TryGetValue("auth", out var auth) && TryParseBearer(auth, out token);
    }

    /// <summary>
    /// <c>*(key "=" value %x01) %x01</c>: keys are ASCII letters, unique (case-sensitive); values hold no controls but
    /// HTAB, CR, LF. The input must end with the terminating %x01.
    /// </summary>
    internal static bool TryParsePairs(ReadOnlySpan<char> text, out Dictionary<string, string> pairs)
    {
        pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (text.IsEmpty || text[^1] != '\x01')
        {
            return false;
        }

        var body = text[..^1];
        while (!body.IsEmpty)
        {
            var separator = body.IndexOf('\x01');
            if (separator < 0)
            {
                return false; // the last pair lacks its %x01
            }

            var pair = body[..separator];
            body = body[(separator + 1)..];
            var equals = pair.IndexOf('=');
            if (equals <= 0)
            {
                return false;
            }

            var key = pair[..equals];
            var value = pair[(equals + 1)..];
            foreach (var c in key)
            {
                if (!char.IsAsciiLetter(c))
                {
                    return false;
                }
            }

            foreach (var c in value)
            {
                if ((c < ' ' && c is not '\t' and not '\r' and not '\n') || c == '\x7f')
                {
                    return false;
                }
            }

            if (!pairs.TryAdd(key.ToString(), value.ToString()))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary><c>"Bearer" 1*SP b64token</c> (RFC 6750 §2.1; the scheme is case-insensitive).</summary>
    internal static bool TryParseBearer(string credentials, out string token)
    {
        token = "";
        const string Scheme = "Bearer ";
        if (!credentials.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var value = credentials.AsSpan(Scheme.Length).TrimStart(' ');

        // b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
        var padding = value.Length;
        while (padding > 0 && value[padding - 1] == '=')
        {
            padding--;
        }

        if (padding == 0)
        {
            return false;
        }

        foreach (var c in value[..padding])
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '.' and not '_' and not '~' and not '+' and not '/')
            {
                return false;
            }
        }

        token = value.ToString();
        return true;
    }

    internal static bool TryDecode(ReadOnlySpan<byte> bytes, out string text)
    {
        text = "";
        if (bytes.IsEmpty || bytes.Contains((byte)0) || !System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return false;
        }

        text = Encoding.UTF8.GetString(bytes);
        return true;
    }
}
