using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace StartTls.Smtp.Storage;

/// <summary>
/// Builds the <c>Return-Path</c> and <c>Received</c> trace headers a delivering server prepends to a message
/// (RFC 5321 §4.4, RFC 5322 §3.6.7):
/// <code>
/// Return-Path: &lt;sender@example.org&gt;
/// Received: from client.example.org ([192.0.2.1])
///         by mx.example.net with ESMTP id 3f2a-1
///         for &lt;rcpt@example.net&gt;; Tue, 1 Jul 2025 12:00:00 +0000
/// </code>
/// </summary>
/// <remarks>
/// The Maildir store writes these headers; any <see cref="IMessageStore"/> that delivers or relays a message can
/// prepend the same ones with <see cref="Format"/>. The <c>with</c> clause names the protocol as RFC 3848 and RFC 6531
/// register it (<see cref="WithProtocol"/>).
/// Every value is sanitised: control characters (CR and LF included) become <c>?</c>, and so does anything outside
/// ASCII unless the transaction is SMTPUTF8 (RFC 6532 allows UTF-8 header text then). Lines are folded with
/// CRLF + TAB before 78 characters where a space allows it.
/// </remarks>
public static class SmtpTraceHeaders
{
    private const int MaxLineLength = 78;

    /// <summary>Builds both headers, each ending with CRLF, as the bytes to write before the content.</summary>
    internal static byte[] Build(SmtpSession session, SmtpEnvelope envelope, string serverName, DateTimeOffset now)
        => Encoding.UTF8.GetBytes(Format(session, envelope, serverName, now));

    /// <summary>
    /// Builds the <c>Return-Path</c> and <c>Received</c> headers for a message received in <paramref name="session"/>,
    /// each ending with CRLF, ready to be written before the message content.
    /// </summary>
    /// <param name="session">The session the message arrived in: HELO name, client address, TLS and authentication.</param>
    /// <param name="envelope">The transaction: sender, recipients (named in a <c>for</c> clause when there is exactly one) and SMTPUTF8.</param>
    /// <param name="serverName">This server's host name, written in the <c>by</c> clause.</param>
    /// <param name="now">The time of receipt, written with its offset.</param>
    /// <returns>The two header fields, folded before 78 characters, with every value sanitised.</returns>
    public static string Format(SmtpSession session, SmtpEnvelope envelope, string serverName, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(serverName);
        var utf8 = envelope.IsSmtpUtf8;
        var header = new HeaderBuilder(utf8);

        header.Start("Return-Path:");
        header.Token("<" + (envelope.From?.Address ?? string.Empty) + ">");
        header.End();

        // A clause's keyword and value form one token, so a fold never separates them.
        header.Start("Received:");
        header.Token("from " + (string.IsNullOrEmpty(session.HeloName) ? "unknown" : session.HeloName));
        if (AddressLiteral(session.RemoteEndPoint) is { } literal)
        {
            // The host name only when a trusted proxy reported it (XCLIENT NAME): the server does no DNS lookups.
            header.Token("(" + (session.ClientHostName is { } name ? name + " " : string.Empty) + literal + ")");
        }

        header.Break();
        header.Token("by " + (serverName.Length == 0 ? "localhost" : serverName));
        header.Token("with " + WithProtocol(session, envelope));
        var id = string.Create(CultureInfo.InvariantCulture, $"id {session.Id}-{session.MessageCount + 1}");
        if (envelope.Recipients.Count == 1)
        {
            header.Token(id);
            header.Break();
            header.Token("for <" + envelope.Recipients[0].Mailbox.Address + ">;");
        }
        else
        {
            header.Token(id + ";");
        }

        header.Token(FormatDate(now));
        header.End();
        return header.ToString();
    }

    /// <summary>
    /// The protocol name for the <c>with</c> clause: <c>SMTP</c> after HELO; after EHLO <c>ESMTP</c>, or <c>UTF8SMTP</c>
    /// for an SMTPUTF8 transaction (RFC 6531 §3.7.3), with <c>S</c> added under TLS and <c>A</c> once authenticated
    /// (RFC 3848): <c>ESMTPS</c>, <c>ESMTPSA</c>, <c>UTF8SMTPSA</c>…. On an LMTP endpoint (<see cref="SmtpSession.IsLmtp"/>)
    /// the LMTP names: <c>LMTP</c>, <c>LMTPS</c>, <c>LMTPA</c>, <c>LMTPSA</c> and their <c>UTF8LMTP</c> forms.
    /// </summary>
    /// <param name="session">The session: HELO or EHLO, TLS, authentication.</param>
    /// <param name="envelope">The transaction, for SMTPUTF8.</param>
    /// <returns>A protocol name registered in the IANA "Mail Transmission Types" registry.</returns>
    public static string WithProtocol(SmtpSession session, SmtpEnvelope envelope)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(envelope);
        if (session.IsLmtp)
        {
            // RFC 3848 and RFC 6531 §3.7.3: never ESMTP for a message that came by LMTP.
            return (envelope.IsSmtpUtf8, session.IsSecure, session.IsAuthenticated) switch
            {
                (false, false, false) => "LMTP",
                (false, true, false) => "LMTPS",
                (false, false, true) => "LMTPA",
                (false, true, true) => "LMTPSA",
                (true, false, false) => "UTF8LMTP",
                (true, true, false) => "UTF8LMTPS",
                (true, false, true) => "UTF8LMTPA",
                (true, true, true) => "UTF8LMTPSA",
            };
        }

        if (!session.IsExtended)
        {
            return "SMTP";
        }

        return (envelope.IsSmtpUtf8, session.IsSecure, session.IsAuthenticated) switch
        {
            (false, false, false) => "ESMTP",
            (false, true, false) => "ESMTPS",
            (false, false, true) => "ESMTPA",
            (false, true, true) => "ESMTPSA",
            (true, false, false) => "UTF8SMTP",
            (true, true, false) => "UTF8SMTPS",
            (true, false, true) => "UTF8SMTPA",
            (true, true, true) => "UTF8SMTPSA",
        };
    }

    /// <summary>
    /// The RFC 5321 §4.1.3 address literal of an IP endpoint: <c>[192.0.2.1]</c> or <c>[IPv6:2001:db8::1]</c>;
    /// <see langword="null"/> for other endpoints.
    /// </summary>
    public static string? AddressLiteral(EndPoint? endPoint)
    {
        if (endPoint is not IPEndPoint { Address: var address })
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return "[" + address.ToString() + "]";
        }

        if (address.ScopeId != 0)
        {
            // The zone index ("%eth0") means nothing outside this host.
            address = new IPAddress(address.GetAddressBytes());
        }

        return "[IPv6:" + address.ToString() + "]";
    }

    /// <summary>An RFC 5322 §3.3 date-time, such as <c>Tue, 1 Jul 2025 12:00:00 +0200</c>.</summary>
    /// <param name="value">The time, written with its own offset.</param>
    /// <returns>The date-time in invariant culture.</returns>
    public static string FormatDate(DateTimeOffset value)
    {
        var offset = value.Offset;
        var sign = offset < TimeSpan.Zero ? '-' : '+';
        var totalMinutes = Math.Abs((int)offset.TotalMinutes);
        return value.ToString("ddd, d MMM yyyy HH:mm:ss ", CultureInfo.InvariantCulture)
            + string.Create(CultureInfo.InvariantCulture, $"{sign}{totalMinutes / 60:00}{totalMinutes % 60:00}");
    }

    /// <summary>Writes header fields token by token, folding lines and sanitising every token.</summary>
    private sealed class HeaderBuilder(bool allowUtf8)
    {
        private readonly StringBuilder _builder = new(256);
        private int _lineLength;
        private bool _lineHasToken;
        private bool _breakPending;

        public void Start(string name)
        {
            _builder.Append(name);
            _lineLength = name.Length;
            _lineHasToken = false;
            _breakPending = false;
        }

        /// <summary>Makes the next token start a new (folded) line.</summary>
        public void Break() => _breakPending = true;

        public void Token(string token)
        {
            if (_lineHasToken && (_breakPending || _lineLength + 1 + token.Length > MaxLineLength))
            {
                _builder.Append("\r\n\t");
                _lineLength = 1;
            }
            else
            {
                _builder.Append(' ');
                _lineLength++;
            }

            _breakPending = false;
            AppendSanitized(token);
            _lineLength += token.Length;
            _lineHasToken = true;
        }

        public void End() => _builder.Append("\r\n");

        public override string ToString() => _builder.ToString();

        private void AppendSanitized(string value)
        {
            for (var i = 0; i < value.Length; i++)
            {
                var c = value[i];
                if (char.IsControl(c) || (c > '~' && !allowUtf8))
                {
                    _builder.Append('?');
                }
                else if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
                {
                    _builder.Append(c).Append(value[i + 1]);
                    i++;
                }
                else if (char.IsSurrogate(c))
                {
                    _builder.Append('?');
                }
                else
                {
                    _builder.Append(c);
                }
            }
        }
    }
}
