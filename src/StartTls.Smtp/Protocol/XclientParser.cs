using System.Text;
using StartTls.Smtp.Transport;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// Parses the arguments of Postfix's XCLIENT command (XCLIENT_README): <c>XCLIENT attribute=value ...</c> with
/// NAME, ADDR, PORT, PROTO, HELO and LOGIN; values are xtext (RFC 3461 §4: <c>+XX</c> hex escapes) and may be
/// <c>[UNAVAILABLE]</c> or <c>[TEMPUNAVAIL]</c>. The replies are Postfix's.
/// </summary>
internal static class XclientParser
{
    /// <summary>The longest decoded value (Postfix's limit for names and addresses is of this order).</summary>
    public const int MaxValueLength = 255;

    /// <summary>Parses every attribute, or returns the reply for the first problem (nothing is applied then).</summary>
    public static SmtpReply? Parse(ReadOnlySpan<byte> arguments, out XclientAttributes attributes)
    {
        attributes = new XclientAttributes();
        arguments = arguments.Trim((byte)' ');
        if (arguments.IsEmpty)
        {
            return Replies.XclientSyntax;
        }

        Span<byte> value = stackalloc byte[MaxValueLength];
        while (!arguments.IsEmpty)
        {
            var space = arguments.IndexOf((byte)' ');
            var token = space < 0 ? arguments : arguments[..space];
            arguments = space < 0 ? [] : arguments[(space + 1)..].TrimStart((byte)' ');
            var equals = token.IndexOf((byte)'=');
            if (equals <= 0)
            {
                return Replies.XclientAttributeExpected;
            }

            var name = token[..equals];
            var length = DecodeXtext(token[(equals + 1)..], value);
            if (length == -2)
            {
                return Replies.XclientValueTooLong;
            }

            if (length < 0)
            {
                return BadSyntax(name, token[(equals + 1)..]);
            }

            var error = Apply(name, value[..length], attributes);
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    private static SmtpReply? Apply(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XclientAttributes attributes)
    {
        var unavailable = value.SequenceEqual("[UNAVAILABLE]"u8) || value.SequenceEqual("[TEMPUNAVAIL]"u8);
        if (Ascii.EqualsIgnoreCase(name, "NAME"u8))
        {
            attributes.HasName = true;
            attributes.Name = unavailable ? null : IsHostName(value) ? Encoding.ASCII.GetString(value) : null;
            return unavailable || attributes.Name is not null ? null : BadSyntax(name, value);
        }

        if (Ascii.EqualsIgnoreCase(name, "ADDR"u8))
        {
            attributes.HasAddress = true;
            if (unavailable)
            {
                attributes.Address = null;
                return null;
            }

            // Postfix's form: a dotted quad, or IPV6: and an IPv6 address.
            var ok = value.Length > 5 && Ascii.EqualsIgnoreCase(value[..5], "IPV6:"u8)
                ? ProxyHeaderParser.TryParseIPv6(value[5..], out var address)
                : ProxyHeaderParser.TryParseIPv4(value, out address);
            attributes.Address = ok ? address : null;
            return ok ? null : BadSyntax(name, value);
        }

        if (Ascii.EqualsIgnoreCase(name, "PORT"u8))
        {
            attributes.HasPort = true;
            if (unavailable)
            {
                attributes.Port = 0;
                return null;
            }

            if (value.IsEmpty || value.Length > 5 || value.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
            {
                return BadSyntax(name, value);
            }

            var port = 0;
            foreach (var b in value)
            {
                port = (port * 10) + (b - '0');
            }

            attributes.Port = port;
            return port <= 65535 ? null : BadSyntax(name, value);
        }

        if (Ascii.EqualsIgnoreCase(name, "PROTO"u8))
        {
            attributes.HasProtocol = true;
            attributes.IsExtended = Ascii.EqualsIgnoreCase(value, "ESMTP"u8);
            return unavailable || attributes.IsExtended || Ascii.EqualsIgnoreCase(value, "SMTP"u8) ? null : BadSyntax(name, value);
        }

        if (Ascii.EqualsIgnoreCase(name, "HELO"u8))
        {
            attributes.HasHelo = true;
            if (unavailable)
            {
                attributes.Helo = null;
                return null;
            }

            if (value.IsEmpty || value.ContainsAnyExceptInRange((byte)0x21, (byte)0x7E))
            {
                return BadSyntax(name, value);
            }

            attributes.Helo = Encoding.ASCII.GetString(value);
            return null;
        }

        if (Ascii.EqualsIgnoreCase(name, "LOGIN"u8))
        {
            attributes.HasLogin = true;
            if (unavailable)
            {
                attributes.Login = null;
                return null;
            }

            // A login name is UTF-8 text without controls (it is shown to the application as the identity).
            if (value.IsEmpty || !System.Text.Unicode.Utf8.IsValid(value) || value.ContainsAnyInRange((byte)0, (byte)0x20) || value.Contains((byte)0x7F))
            {
                return BadSyntax(name, value);
            }

            attributes.Login = Encoding.UTF8.GetString(value);
            return null;
        }

        return new SmtpReply(501, "5.5.4", "Bad XCLIENT attribute name: " + Printable(name));
    }

    /// <summary>
    /// Decodes xtext into <paramref name="output"/>: printable ASCII except <c>+</c> and <c>=</c>, and <c>+XX</c> for any
    /// octet. Returns the length, -1 for bad xtext, -2 when longer than <paramref name="output"/>.
    /// </summary>
    internal static int DecodeXtext(ReadOnlySpan<byte> xtext, Span<byte> output)
    {
        var length = 0;
        for (var i = 0; i < xtext.Length; i++)
        {
            var b = xtext[i];
            if (b == '+')
            {
                if (i + 2 >= xtext.Length || !IsUpperHex(xtext[i + 1]) || !IsUpperHex(xtext[i + 2]))
                {
                    return -1;
                }

                b = (byte)((HexValue(xtext[i + 1]) << 4) | HexValue(xtext[i + 2]));
                i += 2;
            }
            else if (b is < 0x21 or > 0x7E or (byte)'=')
            {
                return -1;
            }

            if (length == output.Length)
            {
                return -2;
            }

            output[length++] = b;
        }

        return length;

        static bool IsUpperHex(byte h) => h is (>= (byte)'0' and <= (byte)'9') or (>= (byte)'A' and <= (byte)'F');
        static int HexValue(byte h) => h <= '9' ? h - '0' : h - 'A' + 10;
    }

    /// <summary>Letters, digits, hyphens and dots, labels of 1 to 63, at most 255 in all.</summary>
    private static bool IsHostName(ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty || value.Length > 255)
        {
            return false;
        }

        var label = 0;
        foreach (var b in value)
        {
            if (b == '.')
            {
                if (label == 0)
                {
                    return false;
                }

                label = 0;
            }
            else if (char.IsAsciiLetterOrDigit((char)b) || b == '-')
            {
                if (++label > 63)
                {
                    return false;
                }
            }
            else
            {
                return false;
            }
        }

        return label > 0 || value.Length > 1;
    }

    private static SmtpReply BadSyntax(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        => new(501, "5.5.4", "Bad " + Printable(name).ToUpperInvariant() + " syntax: " + Printable(value));

    /// <summary>Client text made safe for a reply: printable ASCII, other octets as '?', at most 64 characters.</summary>
    private static string Printable(ReadOnlySpan<byte> text)
    {
        var shown = text.Length > 64 ? text[..64] : text;
        return string.Create(shown.Length, shown.ToArray(), static (chars, bytes) =>
        {
            for (var i = 0; i < bytes.Length; i++)
            {
                chars[i] = bytes[i] is >= 0x21 and <= 0x7E ? (char)bytes[i] : '?';
            }
        });
    }
}
