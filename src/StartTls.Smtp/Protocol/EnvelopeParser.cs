namespace StartTls.Smtp.Protocol;

/// <summary>Parses the arguments of MAIL and RCPT into envelope values, returning the RFC reply for any fault.</summary>
internal static class EnvelopeParser
{
    /// <summary>Parses <c>FROM:&lt;path&gt; [params]</c>; <c>AUTH=</c> is a known parameter only when <paramref name="authOffered"/>.</summary>
    /// <returns><see langword="null"/> on success, else the error reply.</returns>
    public static SmtpReply? ParseMail(ReadOnlySpan<byte> arguments, ProtocolSettings settings, bool authOffered, out SmtpEnvelope? envelope)
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
                    if (overflow || declared > settings.MaxMessageSize)
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
                default:
                    return Replies.UnsupportedParameter;
            }
        }

        // RFC 6531 §3.5: a non-ASCII address without SMTPUTF8 is refused.
        if (nonAscii && !smtpUtf8)
        {
            return Replies.SenderNeedsSmtpUtf8;
        }

        envelope = new SmtpEnvelope(from, parameters, size, body, smtpUtf8);
        return null;
    }

    /// <summary>Parses <c>TO:&lt;path&gt; [params]</c>.</summary>
    /// <returns><see langword="null"/> on success, else the error reply.</returns>
    public static SmtpReply? ParseRcpt(ReadOnlySpan<byte> arguments, bool smtpUtf8, out SmtpRecipient? recipient)
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

        // No RCPT parameters are advertised (DSN is not offered), so any is unsupported.
        if (parameters.Count > 0)
        {
            return Replies.UnsupportedParameter;
        }

        if (nonAscii && !smtpUtf8)
        {
            return Replies.RecipientNeedsSmtpUtf8;
        }

        recipient = new SmtpRecipient(to, parameters);
        return null;
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
