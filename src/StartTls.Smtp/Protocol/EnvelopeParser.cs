namespace StartTls.Smtp.Protocol;

/// <summary>Parses the arguments of MAIL and RCPT into envelope values, returning the RFC reply for any fault.</summary>
internal static class EnvelopeParser
{
    /// <summary>Parses <c>FROM:&lt;path&gt; [params]</c>; <c>AUTH=</c> is a known parameter only when <paramref name="authOffered"/>.</summary>
    /// <returns><see langword="null"/> on success, else the error reply.</returns>
    public static SmtpReply? ParseMail(ReadOnlySpan<byte> arguments, ProtocolSettings settings, bool authOffered, out SmtpEnvelope? envelope)
        => ParseMail(arguments, settings, authOffered, secure: false, out envelope);

    public static SmtpReply? ParseMail(ReadOnlySpan<byte> arguments, ProtocolSettings settings, bool authOffered, bool secure, out SmtpEnvelope? envelope)
        => ParseMail(arguments, settings, authOffered, secure, settings.MaxMessageSize, out envelope);

    /// <summary>MAIL's arguments, with <c>SIZE=</c> checked against the endpoint's <paramref name="maxMessageSize"/>.</summary>
    public static SmtpReply? ParseMail(ReadOnlySpan<byte> arguments, ProtocolSettings settings, bool authOffered, bool secure, long maxMessageSize, out SmtpEnvelope? envelope)
    {
        envelope = null;
        if (!TrySkipPrefix(ref arguments, "FROM:"u8))
        {
            return Replies.MailSyntax;
        }

        var result = PathParser.TryParse(arguments, allowNullPath: true, allowPostmaster: false, out var from, out var consumed, out var nonAscii);
        if (result == PathParseResult.InvalidUtf8)
        {
            return Replies.InvalidUtf8;
        }

        if (result != PathParseResult.Ok)
        {
            return Replies.BadSenderSyntax;
        }

        var error = EsmtpParameters.TryParse(arguments[consumed..], out var parameters);
        if (error is not null)
        {
            return error;
        }

        long? size = null;
        var body = SmtpBodyType.Unspecified;
        var smtpUtf8 = false;
        var dsnReturn = DsnReturn.Unspecified;
        string? envelopeId = null;
        var requireTls = false;
        foreach (var (key, value) in parameters)
        {
            switch (key)
            {
                case "SIZE":
                    if (!TryParseSize(value, out var declared, out var overflow))
                    {
                        return Replies.SizeSyntax;
                    }

                    // RFC 1870 §6.1: a declared size over the fixed maximum is a permanent failure.
                    if (overflow || declared > maxMessageSize)
                    {
                        return Replies.MessageTooLarge;
                    }

                    size = declared;
                    break;
                case "BODY":
                    if (value is null)
                    {
                        return Replies.BodySyntax;
                    }

                    if (value.Equals("7BIT", StringComparison.OrdinalIgnoreCase))
                    {
                        body = SmtpBodyType.SevenBit;
                    }
                    else if (value.Equals("8BITMIME", StringComparison.OrdinalIgnoreCase) && settings.Enable8BitMime)
                    {
                        body = SmtpBodyType.EightBitMime;
                    }
                    else if (value.Equals("BINARYMIME", StringComparison.OrdinalIgnoreCase) && settings.EnableChunking)
                    {
                        // RFC 3030 §3: the content then comes only by BDAT; DATA in this transaction gets 503.
                        body = SmtpBodyType.BinaryMime;
                    }
                    else
                    {
                        return Replies.UnsupportedParameter;
                    }

                    break;
                case "SMTPUTF8" when settings.EnableSmtpUtf8:
                    if (value is not null)
                    {
                        return Replies.SmtpUtf8Syntax;
                    }

                    smtpUtf8 = true;
                    break;
                case "AUTH" when authOffered:
                    // RFC 4954 §5: the submitter's identity as xtext, or <>; passed on in MailParameters as sent.
                    if (string.IsNullOrEmpty(value))
                    {
                        return Replies.ParameterSyntax;
                    }

                    break;
                case "RET" when settings.EnableDsn:
                    if ("FULL".Equals(value, StringComparison.OrdinalIgnoreCase))
                    {
                        dsnReturn = DsnReturn.Full;
                    }
                    else if ("HDRS".Equals(value, StringComparison.OrdinalIgnoreCase))
                    {
                        dsnReturn = DsnReturn.Headers;
                    }
                    else
                    {
                        return Replies.DsnRetSyntax;
                    }

                    break;
                case "ENVID" when settings.EnableDsn:
                    // RFC 3461 §4.4: xtext, at most 100 characters.
                    if (value is null || value.Length > 100 || !Xtext.TryDecode(value, out envelopeId))
                    {
                        return Replies.DsnEnvIdSyntax;
                    }

                    break;
                case "REQUIRETLS" when settings.EnableRequireTls && secure:
                    // RFC 8689 §4.1: offered (and so accepted) only on a TLS session; it takes no value.
                    if (value is not null)
                    {
                        return Replies.RequireTlsSyntax;
                    }

                    requireTls = true;
                    break;
                default:
                    return Replies.UnsupportedParameter;
            }
        }

        // RFC 6531 §3.5: a non-ASCII address without SMTPUTF8 is refused.
        if (nonAscii && !smtpUtf8)
        {
            return Replies.SenderNeedsSmtpUtf8;
        }

        envelope = new SmtpEnvelope(from, parameters, size, body, smtpUtf8)
        {
            DsnReturn = dsnReturn,
            DsnEnvelopeId = envelopeId,
            RequireTls = requireTls,
        };
        return null;
    }

    /// <summary>Parses <c>TO:&lt;path&gt; [params]</c>.</summary>
    /// <returns><see langword="null"/> on success, else the error reply.</returns>
    public static SmtpReply? ParseRcpt(ReadOnlySpan<byte> arguments, bool smtpUtf8, out SmtpRecipient? recipient)
        => ParseRcpt(arguments, smtpUtf8, dsn: false, out recipient);

    public static SmtpReply? ParseRcpt(ReadOnlySpan<byte> arguments, bool smtpUtf8, bool dsn, out SmtpRecipient? recipient)
    {
        recipient = null;
        if (!TrySkipPrefix(ref arguments, "TO:"u8))
        {
            return Replies.RcptSyntax;
        }

        var result = PathParser.TryParse(arguments, allowNullPath: false, allowPostmaster: true, out var to, out var consumed, out var nonAscii);
        if (result == PathParseResult.InvalidUtf8)
        {
            return Replies.InvalidUtf8;
        }

        if (result != PathParseResult.Ok || to is null)
        {
            return Replies.BadRecipientSyntax;
        }

        var error = EsmtpParameters.TryParse(arguments[consumed..], out var parameters);
        if (error is not null)
        {
            return error;
        }

        // DSN's NOTIFY and ORCPT are the only RCPT parameters offered; without DSN, any parameter is unsupported.
        var notify = DsnNotify.Unspecified;
        SmtpOriginalRecipient? original = null;
        foreach (var (key, value) in parameters)
        {
            switch (key)
            {
                case "NOTIFY" when dsn:
                    if (!TryParseNotify(value, out notify))
                    {
                        return Replies.DsnNotifySyntax;
                    }

                    break;
                case "ORCPT" when dsn:
                    if (!TryParseOriginalRecipient(value, out original))
                    {
                        return Replies.DsnOrcptSyntax;
                    }

                    break;
                default:
                    return Replies.UnsupportedParameter;
            }
        }

        if (nonAscii && !smtpUtf8)
        {
            return Replies.RecipientNeedsSmtpUtf8;
        }

        recipient = new SmtpRecipient(to, parameters) { DsnNotify = notify, OriginalRecipient = original };
        return null;
    }

    /// <summary>RFC 3461 §4.1: <c>NEVER</c> alone, or a comma list of <c>SUCCESS</c>, <c>FAILURE</c> and <c>DELAY</c>, each once.</summary>
    private static bool TryParseNotify(string? value, out DsnNotify notify)
    {
        notify = DsnNotify.Unspecified;
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        var rest = value.AsSpan();
        while (true)
        {
            var comma = rest.IndexOf(',');
            var token = comma < 0 ? rest : rest[..comma];
            DsnNotify flag;
            if (token.Equals("NEVER", StringComparison.OrdinalIgnoreCase))
            {
                flag = DsnNotify.Never;
            }
            else if (token.Equals("SUCCESS", StringComparison.OrdinalIgnoreCase))
            {
                flag = DsnNotify.Success;
            }
            else if (token.Equals("FAILURE", StringComparison.OrdinalIgnoreCase))
            {
                flag = DsnNotify.Failure;
            }
            else if (token.Equals("DELAY", StringComparison.OrdinalIgnoreCase))
            {
                flag = DsnNotify.Delay;
            }
            else
            {
                return false;
            }

            if ((notify & flag) != 0 || (notify != DsnNotify.Unspecified && (flag == DsnNotify.Never || notify == DsnNotify.Never)))
            {
                return false;
            }

            notify |= flag;
            if (comma < 0)
            {
                return true;
            }

            rest = rest[(comma + 1)..];
        }
    }

    /// <summary>
    /// RFC 3461 §4.2: <c>addr-type ";" xtext</c>, at most 500 characters. The <c>utf-8</c> type (RFC 6533) may also
    /// carry <c>\x{HEX}</c> escapes for non-ASCII characters, which are decoded.
    /// </summary>
    private static bool TryParseOriginalRecipient(string? value, out SmtpOriginalRecipient? original)
    {
        original = null;
        if (value is null || value.Length > 500)
        {
            return false;
        }

        var semicolon = value.IndexOf(';', StringComparison.Ordinal);
        if (semicolon <= 0 || semicolon == value.Length - 1)
        {
            return false;
        }

        var type = value[..semicolon];
        foreach (var c in type)
        {
            // addr-type = atom
            if (!char.IsAsciiLetterOrDigit(c) && "!#$%&'*+-/=?^_`{|}~".IndexOf(c, StringComparison.Ordinal) < 0)
            {
                return false;
            }
        }

        if (!Xtext.TryDecode(value[(semicolon + 1)..], out var address))
        {
            return false;
        }

        if (type.Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !TryDecodeUtf8Escapes(address, out address))
        {
            return false;
        }

        original = new SmtpOriginalRecipient(type, address);
        return true;
    }

    /// <summary>RFC 6533 §3: <c>\x{HEX}</c> (1 to 6 digits) stands for one Unicode scalar value that is not a control character.</summary>
    private static bool TryDecodeUtf8Escapes(string value, out string decoded)
    {
        decoded = value;
        if (value.IndexOf("\\x{", StringComparison.Ordinal) < 0)
        {
            return true;
        }

        var builder = new System.Text.StringBuilder(value.Length);
        var i = 0;
        while (i < value.Length)
        {
            if (value[i] == '\\' && i + 2 < value.Length && value[i + 1] == 'x' && value[i + 2] == '{')
            {
                var close = value.IndexOf('}', i + 3);
                var digits = close < 0 ? ReadOnlySpan<char>.Empty : value.AsSpan(i + 3, close - i - 3);
                if (digits.Length is < 1 or > 6
                    || !int.TryParse(digits, System.Globalization.NumberStyles.AllowHexSpecifier, System.Globalization.CultureInfo.InvariantCulture, out var scalar)
                    || !System.Text.Rune.IsValid(scalar) || System.Text.Rune.IsControl(new System.Text.Rune(scalar)))
                {
                    return false;
                }

                builder.Append(new System.Text.Rune(scalar).ToString());
                i = close + 1;
            }
            else
            {
                builder.Append(value[i]);
                i++;
            }
        }

        decoded = builder.ToString();
        return true;
    }

    private static bool TrySkipPrefix(ref ReadOnlySpan<byte> arguments, ReadOnlySpan<byte> prefix)
    {
        if (arguments.Length < prefix.Length || !System.Text.Ascii.EqualsIgnoreCase(arguments[..prefix.Length], prefix))
        {
            return false;
        }

        // RFC 5321 has no space after the colon; many clients send one, and refusing them gains nothing.
        arguments = arguments[prefix.Length..].TrimStart((byte)' ');
        return true;
    }

    private static bool TryParseSize(string? value, out long size, out bool overflow)
    {
        size = 0;
        overflow = false;
        if (string.IsNullOrEmpty(value) || value.Length > 20)
        {
            // More than 20 digits cannot be a size; 20 digits may still overflow a long, handled below.
            if (value is { Length: > 20 } && IsDigits(value))
            {
                overflow = true;
                return true;
            }

            return false;
        }

        if (!IsDigits(value))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (size > (long.MaxValue - (c - '0')) / 10)
            {
                overflow = true;
                return true;
            }

            size = (size * 10) + (c - '0');
        }

        return true;
    }

    private static bool IsDigits(string value)
    {
        foreach (var c in value)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return true;
    }
}
