using System.Text;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// Parses the ESMTP parameters after a path (RFC 5321 §4.1.2): <c>SP keyword["=" value]</c>, keyword
/// <c>ALPHA/DIGIT *(ALPHA/DIGIT/"-")</c>, value printable US-ASCII without "=" or space.
/// </summary>
internal static class EsmtpParameters
{
    /// <summary>The shared empty set, so the common parameter-less command allocates nothing here.</summary>
    public static readonly IReadOnlyDictionary<string, string?> Empty = new Dictionary<string, string?>(0);

    /// <summary>Parses <paramref name="input"/> (the rest of the line after the path).</summary>
    /// <returns><see langword="null"/> on success, else the error reply.</returns>
    public static SmtpReply? TryParse(ReadOnlySpan<byte> input, out IReadOnlyDictionary<string, string?> parameters)
    {
        parameters = Empty;
        Dictionary<string, string?>? result = null;
        while (input.Length > 0)
        {
            if (input[0] != (byte)' ')
            {
                return Replies.ParameterSyntax;
            }

            // Tolerate repeated spaces between parameters and at the end of the line.
            input = input.TrimStart((byte)' ');
            if (input.Length == 0)
            {
                break;
            }

            var end = input.IndexOf((byte)' ');
            var token = end < 0 ? input : input[..end];
            input = end < 0 ? [] : input[end..];

            var equals = token.IndexOf((byte)'=');
            var keyword = equals < 0 ? token : token[..equals];
            if (!IsKeyword(keyword))
            {
                return Replies.ParameterSyntax;
            }

            string? value = null;
            if (equals >= 0)
            {
                var raw = token[(equals + 1)..];
                if (raw.Length == 0 || !IsValue(raw))
                {
                    return Replies.ParameterSyntax;
                }

                value = Encoding.ASCII.GetString(raw);
            }

            result ??= new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            var key = Encoding.ASCII.GetString(keyword).ToUpperInvariant();
            if (!result.TryAdd(key, value) && !string.Equals(result[key], value, StringComparison.OrdinalIgnoreCase))
            {
                // A repeat with the same value is harmless (Python's smtplib sends SMTPUTF8 twice); a conflict is not.
                return Replies.DuplicateParameter;
            }
        }

        if (result is not null)
        {
            parameters = result;
        }

        return null;
    }

    private static bool IsKeyword(ReadOnlySpan<byte> keyword)
    {
        if (keyword.Length == 0 || !char.IsAsciiLetterOrDigit((char)keyword[0]))
        {
            return false;
        }

        foreach (var b in keyword)
        {
            if (!char.IsAsciiLetterOrDigit((char)b) && b != (byte)'-')
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsValue(ReadOnlySpan<byte> value)
    {
        // esmtp-value = 1*(%d33-60 / %d62-126)
        foreach (var b in value)
        {
            if (b is < 33 or > 126 or (byte)'=')
            {
                return false;
            }
        }

        return true;
    }
}
