using System.Text;

namespace StartTls.Smtp.Authentication;

/// <summary>The SASL name encoding of SCRAM and GS2 headers (RFC 5802 §5.1, RFC 5801 §4).</summary>
internal static class SaslName
{
    /// <summary>
    /// Decodes a saslname: no NUL, no ",", and "=" only in the escapes "=2C" (",") and "=3D" ("="). Non-empty.
    /// </summary>
    public static bool TryDecode(ReadOnlySpan<char> encoded, out string? name)
    {
        name = null;
        if (encoded.IsEmpty)
        {
            return false;
        }

        var builder = new StringBuilder(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c is '\0' or ',')
            {
                return false;
            }

            if (c != '=')
            {
                builder.Append(c);
                continue;
            }

            if (i + 2 >= encoded.Length)
            {
                return false;
            }

            var escape = encoded.Slice(i + 1, 2);
            if (escape.Equals("2C", StringComparison.OrdinalIgnoreCase))
            {
                builder.Append(',');
            }
            else if (escape.Equals("3D", StringComparison.OrdinalIgnoreCase))
            {
                builder.Append('=');
            }
            else
            {
                return false;
            }

            i += 2;
        }

        name = builder.ToString();
        return true;
    }
}
