using System.Text;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// The xtext encoding of DSN parameters (RFC 3461 §4): printable ASCII except <c>+</c> and <c>=</c> stands for itself,
/// <c>+XX</c> (two hexadecimal digits) for any other octet.
/// </summary>
internal static class Xtext
{
    /// <summary>
    /// Decodes <paramref name="value"/>; fails on a bad escape or on an escape that decodes to a control character or
    /// to an octet outside ASCII, which no address or envelope identifier may hold (and which could break a header
    /// a store writes from it).
    /// </summary>
    public static bool TryDecode(string value, out string decoded)
    {
        decoded = string.Empty;
        if (value.IndexOf('+') < 0)
        {
            foreach (var c in value)
            {
                if (c is < '!' or > '~' or '=')
                {
                    return false;
                }
            }

            decoded = value;
            return true;
        }

        var builder = new StringBuilder(value.Length);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (c == '+')
            {
                if (i + 2 >= value.Length || !char.IsAsciiHexDigit(value[i + 1]) || !char.IsAsciiHexDigit(value[i + 2]))
                {
                    return false;
                }

                var octet = (HexValue(value[i + 1]) << 4) | HexValue(value[i + 2]);
                if (octet is < 0x20 or > 0x7E)
                {
                    return false;
                }

                builder.Append((char)octet);
                i += 2;
            }
            else if (c is < '!' or > '~' or '=')
            {
                return false;
            }
            else
            {
                builder.Append(c);
            }
        }

        decoded = builder.ToString();
        return true;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
