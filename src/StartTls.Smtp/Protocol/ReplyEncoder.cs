using System.Buffers;

namespace StartTls.Smtp.Protocol;

/// <summary>
/// Encodes a reply for the wire: <c>code[-| ]enhanced text CRLF</c> per line (RFC 5321 §4.2.1, RFC 2034).
/// Text is forced to printable US-ASCII, so a reply can neither break framing nor echo 8-bit input.
/// </summary>
internal static class ReplyEncoder
{
    /// <summary>Encodes <paramref name="reply"/> into a new array.</summary>
    public static byte[] Encode(SmtpReply reply)
    {
        var writer = new ArrayBufferWriter<byte>(64);
        Write(writer, reply);
        return writer.WrittenSpan.ToArray();
    }

    /// <summary>Writes <paramref name="reply"/> to <paramref name="output"/>.</summary>
    public static void Write(IBufferWriter<byte> output, SmtpReply reply)
    {
        var text = reply.Message.AsSpan();
        var code = reply.Code;
        var enhanced = reply.EnhancedStatusCode;
        while (true)
        {
            var newline = text.IndexOf('\n');
            var line = newline < 0 ? text : text[..newline];
            if (line.Length > 0 && line[^1] == '\r')
            {
                line = line[..^1];
            }

            var last = newline < 0;
            var size = 4 + (enhanced is null ? 0 : enhanced.Length + 1) + line.Length + 2;
            var span = output.GetSpan(size);
            span[0] = (byte)('0' + (code / 100));
            span[1] = (byte)('0' + (code / 10 % 10));
            span[2] = (byte)('0' + (code % 10));
            span[3] = last ? (byte)' ' : (byte)'-';
            var pos = 4;
            if (enhanced is not null)
            {
                foreach (var c in enhanced)
                {
                    span[pos++] = (byte)c;
                }

                span[pos++] = (byte)' ';
            }

            foreach (var c in line)
            {
                span[pos++] = c is >= ' ' and <= '~' ? (byte)c : (byte)'?';
            }

            span[pos++] = (byte)'\r';
            span[pos++] = (byte)'\n';
            output.Advance(pos);
            if (last)
            {
                return;
            }

            text = text[(newline + 1)..];
        }
    }
}
