namespace StartTls.Smtp.Protocol;

/// <summary>What <see cref="BdatArguments.Parse"/> made of a BDAT command's arguments.</summary>
internal enum BdatParse : byte
{
    /// <summary><c>chunk-size [SP "LAST"]</c>, the size within <see cref="BdatArguments.MaxChunkSize"/>.</summary>
    Ok,

    /// <summary>Not <c>1*DIGIT [SP "LAST"]</c>: the chunk cannot be framed.</summary>
    Syntax,

    /// <summary>Digits, but a number over <see cref="BdatArguments.MaxChunkSize"/>: too large to ever be read and skipped.</summary>
    OutOfRange,
}

/// <summary>
/// Parses the arguments of <c>BDAT</c> on bytes, strictly, by the grammar of RFC 3030 §2:
/// <c>bdat-cmd ::= "BDAT" SP chunk-size [ SP end-marker ] CR LF</c>, <c>chunk-size ::= 1*DIGIT</c>,
/// <c>end-marker ::= "LAST"</c> (case-insensitive, as every ABNF string). No sign, no exponent, no hexadecimal, no
/// extra or trailing space: anything else is <see cref="BdatParse.Syntax"/> (docs/threat-model.md T48).
/// </summary>
internal static class BdatArguments
{
    /// <summary>The largest chunk size read (and skipped when refused): 10^18 - 1, so sizes and their sums fit a long.</summary>
    public const long MaxChunkSize = 999_999_999_999_999_999;

    /// <summary>Parses <paramref name="arguments"/> (the text after <c>BDAT </c>).</summary>
    public static BdatParse Parse(ReadOnlySpan<byte> arguments, out long size, out bool last)
    {
        size = 0;
        last = false;
        var space = arguments.IndexOf((byte)' ');
        var digits = space < 0 ? arguments : arguments[..space];
        if (digits.IsEmpty)
        {
            return BdatParse.Syntax;
        }

        var outOfRange = false;
        foreach (var b in digits)
        {
            if ((uint)(b - '0') > 9)
            {
                return BdatParse.Syntax;
            }

            // Leading zeros are digits like any other (1*DIGIT); only the value is bounded.
            if (!outOfRange)
            {
                outOfRange = size > (MaxChunkSize - (b - '0')) / 10;
                size = outOfRange ? 0 : (size * 10) + (b - '0');
            }
        }

        if (space >= 0)
        {
            if (!System.Text.Ascii.EqualsIgnoreCase(arguments[(space + 1)..], "LAST"u8))
            {
                return BdatParse.Syntax;
            }

            last = true;
        }

        if (outOfRange)
        {
            size = 0;
            return BdatParse.OutOfRange;
        }

        return BdatParse.Ok;
    }
}
