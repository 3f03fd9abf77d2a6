namespace StartTls.Smtp.Protocol;

/// <summary>
/// Recognises the command verb at the start of a line, on bytes, case-insensitively by ASCII rules only:
/// <c>ſTARTTLS</c> or <c>MAıL</c> never match, whatever the current culture (docs/threat-model.md T31).
/// </summary>
internal static class VerbParser
{
    /// <summary>Identifies the verb and returns the arguments after the first space (empty if there are none).</summary>
    public static SmtpVerb Parse(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> arguments)
    {
        var space = line.IndexOf((byte)' ');
        var verb = space < 0 ? line : line[..space];
        arguments = space < 0 ? [] : line[(space + 1)..];

        if (verb.Length == 4)
        {
            // Fold the four ASCII letters to lower case in one int; a non-letter can never match below.
            var v = (uint)(verb[0] | (verb[1] << 8) | (verb[2] << 16) | (verb[3] << 24)) | 0x20202020u;
            if (!IsAsciiLetters(verb))
            {
                return SmtpVerb.Unknown;
            }

            return v switch
            {
                0x6f6c6865 => SmtpVerb.Ehlo, // "ehlo"
                0x6f6c6568 => SmtpVerb.Helo, // "helo"
                0x6f6c686c => SmtpVerb.Lhlo, // "lhlo"
                0x6c69616d => SmtpVerb.Mail, // "mail"
                0x74706372 => SmtpVerb.Rcpt, // "rcpt"
                0x61746164 => SmtpVerb.Data, // "data"
                0x74657372 => SmtpVerb.Rset, // "rset"
                0x706f6f6e => SmtpVerb.Noop, // "noop"
                0x74697571 => SmtpVerb.Quit, // "quit"
                0x79667276 => SmtpVerb.Vrfy, // "vrfy"
                0x6e707865 => SmtpVerb.Expn, // "expn"
                0x706c6568 => SmtpVerb.Help, // "help"
                0x68747561 => SmtpVerb.Auth, // "auth"
                0x74616462 => SmtpVerb.Bdat, // "bdat"
                _ => SmtpVerb.Unknown,
            };
        }

        if (verb.Length == 8 && System.Text.Ascii.EqualsIgnoreCase(verb, "STARTTLS"u8))
        {
            return SmtpVerb.StartTls;
        }

        if (verb.Length == 7 && System.Text.Ascii.EqualsIgnoreCase(verb, "XCLIENT"u8))
        {
            return SmtpVerb.Xclient;
        }

        return SmtpVerb.Unknown;
    }

    private static bool IsAsciiLetters(ReadOnlySpan<byte> span)
    {
        foreach (var b in span)
        {
            if ((uint)((b | 0x20) - 'a') > 'z' - 'a')
            {
                return false;
            }
        }

        return true;
    }
}
