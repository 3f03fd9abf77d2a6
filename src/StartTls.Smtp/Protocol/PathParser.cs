using System.Text;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// Parses <c>&lt;path&gt;</c> per RFC 5321 §4.1.2 on bytes, with the RFC 6531 additions: UTF-8 is accepted in
/// local parts and domains here, and the caller refuses it when the transaction is not SMTPUTF8. Source routes
/// (<c>&lt;@a,@b:user@c&gt;</c>) are accepted and ignored as §4.1.1.3 asks.
/// </summary>
internal static class PathParser
{
    /// <summary>Parses a path at the start of <paramref name="input"/>.</summary>
    /// <param name="input">The bytes starting with '&lt;'.</param>
    /// <param name="allowNullPath">Accept <c>&lt;&gt;</c> (MAIL FROM).</param>
    /// <param name="allowPostmaster">Accept <c>&lt;Postmaster&gt;</c> without a domain (RCPT TO).</param>
    /// <param name="mailbox">The mailbox; <see langword="null"/> for the null path.</param>
    /// <param name="consumed">How many bytes the path took, including the angle brackets.</param>
    /// <param name="hasNonAscii">True when the mailbox contains non-ASCII (UTF-8) bytes.</param>
    public static PathParseResult TryParse(ReadOnlySpan<byte> input, bool allowNullPath, bool allowPostmaster,
        out SmtpMailbox? mailbox, out int consumed, out bool hasNonAscii)
    {
        mailbox = null;
        consumed = 0;
        hasNonAscii = false;
        if (input.Length < 2 || input[0] != (byte)'<')
        {
            return PathParseResult.Syntax;
        }

        var close = input.IndexOf((byte)'>');
        if (close < 0)
        {
            return PathParseResult.Syntax;
        }

        // '>' cannot appear inside a valid path except in a quoted local part; find the real end if quoted.
        var pos = 1;
        if (input[1] == (byte)'>')
        {
            consumed = 2;
            return allowNullPath ? PathParseResult.Ok : PathParseResult.Syntax;
        }

        if (input[pos] == (byte)'@')
        {
            // A-d-l ":" — skip the source route; its domains are validated loosely by the domain rule.
            var colon = input.IndexOf((byte)':');
            if (colon < 0 || colon > close)
            {
                return PathParseResult.Syntax;
            }

            if (!IsValidSourceRoute(input[1..colon]))
            {
                return PathParseResult.Syntax;
            }

            pos = colon + 1;
        }

        var localStart = pos;
        if (pos < input.Length && input[pos] == (byte)'"')
        {
            pos++;
            while (true)
            {
                if (pos >= input.Length)
                {
                    return PathParseResult.Syntax;
                }

                var b = input[pos];
                if (b == (byte)'"')
                {
                    pos++;
                    break;
                }

                if (b == (byte)'\\')
                {
                    // quoted-pairSMTP = %d92 %d32-126
                    if (pos + 1 >= input.Length || input[pos + 1] is < 32 or > 126)
                    {
                        return PathParseResult.Syntax;
                    }

                    pos += 2;
                    continue;
                }

                if (b >= 0x80)
                {
                    hasNonAscii = true;
                }
                else if (b is < 32 or > 126)
                {
                    // qtextSMTP = %d32-33 / %d35-91 / %d93-126 (and UTF-8 with SMTPUTF8)
                    return PathParseResult.Syntax;
                }

                pos++;
            }

            if (pos - localStart <= 2)
            {
                return PathParseResult.Syntax;
            }
        }
        else
        {
            var atomLength = 0;
            while (pos < input.Length)
            {
                var b = input[pos];
                if (b == (byte)'.')
                {
                    if (atomLength == 0)
                    {
                        return PathParseResult.Syntax;
                    }

                    atomLength = 0;
                }
                else if (IsAtext(b))
                {
                    atomLength++;
                }
                else if (b >= 0x80)
                {
                    hasNonAscii = true;
                    atomLength++;
                }
                else
                {
                    break;
                }

                pos++;
            }

            if (atomLength == 0)
            {
                return PathParseResult.Syntax;
            }
        }

        // No 64-octet cap on the local part: RFC 5321 §4.5.3.1 asks servers to avoid such limits where they can,
        // and real senders exceed it (SRS and VERP addresses); the command line limit bounds it anyway.
        var localPart = input[localStart..pos];

        if (pos >= input.Length)
        {
            return PathParseResult.Syntax;
        }

        if (input[pos] == (byte)'>')
        {
            // <Postmaster> is the one mailbox allowed without a domain (RFC 5321 §4.1.1.3).
            if (!allowPostmaster || !System.Text.Ascii.EqualsIgnoreCase(localPart, "postmaster"u8))
            {
                return PathParseResult.Syntax;
            }

            consumed = pos + 1;
            mailbox = new SmtpMailbox(Encoding.ASCII.GetString(localPart), string.Empty);
            return PathParseResult.Ok;
        }

        if (input[pos] != (byte)'@')
        {
            return PathParseResult.Syntax;
        }

        pos++;
        var domainStart = pos;
        var domainEnd = input[pos..].IndexOf((byte)'>');
        if (domainEnd < 0)
        {
            return PathParseResult.Syntax;
        }

        var domain = input.Slice(domainStart, domainEnd);
        if (!IsValidDomainOrLiteral(domain, ref hasNonAscii))
        {
            return PathParseResult.Syntax;
        }

        consumed = domainStart + domainEnd + 1;
        var path = input[1..(consumed - 1)];
        if (hasNonAscii && !System.Text.Unicode.Utf8.IsValid(path))
        {
            return PathParseResult.InvalidUtf8;
        }

        mailbox = new SmtpMailbox(Encoding.UTF8.GetString(localPart), Encoding.UTF8.GetString(domain));
        return PathParseResult.Ok;
    }

    /// <summary>
    /// Domain (RFC 5321 §4.1.2, with RFC 6531 U-labels) or address literal. Labels are letters, digits and inner
    /// hyphens, at most 63 octets; the whole at most 255.
    /// </summary>
    public static bool IsValidDomainOrLiteral(ReadOnlySpan<byte> domain, ref bool hasNonAscii)
    {
        if (domain.Length is 0 or > 255)
        {
            return false;
        }

        if (domain[0] == (byte)'[')
        {
            return IsValidAddressLiteral(domain);
        }

        var labelLength = 0;
        byte previous = 0;
        foreach (var b in domain)
        {
            if (b == (byte)'.')
            {
                if (labelLength == 0 || previous == (byte)'-')
                {
                    return false;
                }

                labelLength = 0;
            }
            else if (char.IsAsciiLetterOrDigit((char)b) || b >= 0x80)
            {
                if (b >= 0x80)
                {
                    hasNonAscii = true;
                }

                if (++labelLength > 63)
                {
                    return false;
                }
            }
            else if (b == (byte)'-')
            {
                if (labelLength == 0)
                {
                    return false;
                }

                labelLength++;
            }
            else
            {
                return false;
            }

            previous = b;
        }

        return labelLength > 0 && previous != (byte)'-';
    }

    private static bool IsValidAddressLiteral(ReadOnlySpan<byte> literal)
    {
        // "[" ( IPv4 / "IPv6:" IPv6 / General-address-literal ) "]"; dcontent = %d33-90 / %d94-126
        if (literal.Length < 3 || literal[^1] != (byte)']')
        {
            return false;
        }

        var inner = literal[1..^1];
        foreach (var b in inner)
        {
            if (b is < 33 or > 126 or (byte)'[' or (byte)'\\' or (byte)']')
            {
                return false;
            }
        }

        if (inner.Length >= 5 && System.Text.Ascii.EqualsIgnoreCase(inner[..5], "IPv6:"u8))
        {
            return inner.Length > 5
                && System.Net.IPAddress.TryParse(Encoding.ASCII.GetString(inner[5..]), out var v6)
                && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
        }

        var colon = inner.IndexOf((byte)':');
        if (colon > 0)
        {
            // General-address-literal: Standardized-tag ":" 1*dcontent
            return colon < inner.Length - 1;
        }

        return IsIPv4(inner);
    }

    private static bool IsIPv4(ReadOnlySpan<byte> s)
    {
        var parts = 0;
        var value = 0;
        var digits = 0;
        foreach (var b in s)
        {
            if (b == (byte)'.')
            {
                if (digits == 0 || ++parts > 3)
                {
                    return false;
                }

                value = 0;
                digits = 0;
            }
            else if (b is >= (byte)'0' and <= (byte)'9')
            {
                value = (value * 10) + (b - '0');
                if (++digits > 3 || value > 255)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }

        return parts == 3 && digits > 0;
    }

    private static bool IsValidSourceRoute(ReadOnlySpan<byte> route)
    {
        // "@" Domain *( "," "@" Domain )
        while (true)
        {
            if (route.Length == 0 || route[0] != (byte)'@')
            {
                return false;
            }

            var comma = route.IndexOf((byte)',');
            var domain = comma < 0 ? route[1..] : route[1..comma];
            var ignored = false;
            if (!IsValidDomainOrLiteral(domain, ref ignored))
            {
                return false;
            }

            if (comma < 0)
            {
                return true;
            }

            route = route[(comma + 1)..];
        }
    }

    /// <summary>atext (RFC 5322 §3.2.3): ALPHA / DIGIT / "!#$%&amp;'*+-/=?^_`{|}~".</summary>
    private static bool IsAtext(byte b) => char.IsAsciiLetterOrDigit((char)b) || b switch
    {
        (byte)'!' or (byte)'#' or (byte)'$' or (byte)'%' or (byte)'&' or (byte)'\'' or (byte)'*' or (byte)'+' or (byte)'-'
            or (byte)'/' or (byte)'=' or (byte)'?' or (byte)'^' or (byte)'_' or (byte)'`' or (byte)'{' or (byte)'|'
            or (byte)'}' or (byte)'~' => true,
        _ => false,
    };
}
