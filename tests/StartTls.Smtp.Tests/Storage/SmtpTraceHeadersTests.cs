using System.Net;
using System.Net.Sockets;
using StartTls.Smtp.Storage;
using static StartTls.Smtp.Tests.Storage.StorageTestKit;

namespace StartTls.Smtp.Tests.Storage;

public sealed class SmtpTraceHeadersTests
{
    private static readonly DateTimeOffset Now = new(2025, 7, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("192.0.2.1", "[192.0.2.1]")]
    [InlineData("::ffff:192.0.2.1", "[192.0.2.1]")]
    [InlineData("2001:db8::1", "[IPv6:2001:db8::1]")]
    [InlineData("fe80::1%2", "[IPv6:fe80::1]")]
    public void Address_literals_follow_rfc_5321(string address, string expected)
        => SmtpTraceHeaders.AddressLiteral(new IPEndPoint(IPAddress.Parse(address), 25)).Should().Be(expected);

    [Fact]
    public void Non_ip_endpoints_have_no_address_literal()
    {
        SmtpTraceHeaders.AddressLiteral(null).Should().BeNull();
        SmtpTraceHeaders.AddressLiteral(new UnixDomainSocketEndPoint("/tmp/smtp.sock")).Should().BeNull();
    }

    [Theory]
    [InlineData(0, 0, "Tue, 1 Jul 2025 12:00:00 +0000")]
    [InlineData(2, 0, "Tue, 1 Jul 2025 12:00:00 +0200")]
    [InlineData(-3, -30, "Tue, 1 Jul 2025 12:00:00 -0330")]
    public void Dates_follow_rfc_5322(int hours, int minutes, string expected)
        => SmtpTraceHeaders.FormatDate(new DateTimeOffset(2025, 7, 1, 12, 0, 0, new TimeSpan(hours, minutes, 0))).Should().Be(expected);

    [Fact]
    public void Received_without_helo_or_ip_endpoint_says_unknown()
    {
        var session = new SmtpSession("s9", new UnixDomainSocketEndPoint("/tmp/x"), null, Now);

        var headers = SmtpTraceHeaders.Format(session, Envelope("a@b.example", "c@d.example"), "mx", Now);

        headers.Should().Contain("Received: from unknown\r\n\tby mx with SMTP id s9-1\r\n");
    }

    [Fact]
    public void Line_breaks_and_controls_from_any_input_are_neutralised()
    {
        var session = Session(heloName: "evil\r\nX-Injected: 1");

        var headers = SmtpTraceHeaders.Format(session, Envelope("a\r\nb@example.org", "c@example.net"), "mx\r\nBcc: x", Now);

        headers.Should().NotContain("\r\nX-Injected").And.NotContain("\r\nBcc").And.NotContain("a\r\nb");
        headers.Should().Contain("from evil??X-Injected: 1").And.Contain("<a??b@example.org>").And.Contain("by mx??Bcc: x");
        AssertWellFormed(headers);
    }

    [Fact]
    public void Non_ascii_is_replaced_unless_the_transaction_is_smtputf8()
    {
        var ascii = SmtpTraceHeaders.Format(Session(), Envelope("jörg@exämple.org", "ü@example.net"), "mx", Now);
        var utf8 = SmtpTraceHeaders.Format(Session(), Envelope("jörg@exämple.org", isSmtpUtf8: true, "ü@example.net"), "mx", Now);

        ascii.Should().Contain("Return-Path: <j?rg@ex?mple.org>").And.Contain("for <?@example.net>;");
        ascii.All(char.IsAscii).Should().BeTrue();
        utf8.Should().Contain("Return-Path: <jörg@exämple.org>").And.Contain("for <ü@example.net>;");
        SmtpTraceHeaders.Build(Session(), Envelope("jörg@exämple.org", isSmtpUtf8: true, "ü@example.net"), "mx", Now)
            .Should().Equal(System.Text.Encoding.UTF8.GetBytes(utf8));
    }

    [Fact]
    public void Long_values_are_folded_with_crlf_tab()
    {
        var longHelo = new string('h', 60) + ".example.org";
        var longRecipient = new string('r', 50) + "@" + new string('d', 20) + ".example.net";

        var headers = SmtpTraceHeaders.Format(Session(heloName: longHelo), Envelope("a@example.org", longRecipient), "mx.example.net", Now);

        headers.Should().Contain("Received: from " + longHelo + "\r\n\t([192.0.2.1])\r\n\tby mx.example.net with ESMTP id s1-1\r\n");
        headers.Should().Contain("\tfor <" + longRecipient + ">;\r\n\tTue, 1 Jul 2025 12:00:00 +0000\r\n");
        AssertWellFormed(headers);
    }

    [Theory]
    [InlineData(false, false, false, false, "SMTP")]
    [InlineData(false, true, true, true, "SMTP")]
    [InlineData(true, false, false, false, "ESMTP")]
    [InlineData(true, false, true, false, "ESMTPS")]
    [InlineData(true, false, false, true, "ESMTPA")]
    [InlineData(true, false, true, true, "ESMTPSA")]
    [InlineData(true, true, false, false, "UTF8SMTP")]
    [InlineData(true, true, true, false, "UTF8SMTPS")]
    [InlineData(true, true, false, true, "UTF8SMTPA")]
    [InlineData(true, true, true, true, "UTF8SMTPSA")]
    public void With_names_the_protocol_as_rfc_3848_and_rfc_6531_register_it(bool extended, bool utf8, bool secure, bool authenticated, string expected)
    {
        var session = Session(extended: extended);
        if (secure)
        {
            session.Tls = new SmtpTlsInfo(System.Security.Authentication.SslProtocols.Tls13, System.Net.Security.TlsCipherSuite.TLS_AES_128_GCM_SHA256, null, null, System.Net.Security.SslPolicyErrors.None, false);
        }

        if (authenticated)
        {
            session.AuthenticatedIdentity = "alice";
        }

        var envelope = Envelope("a@example.org", utf8, "b@example.net");

        SmtpTraceHeaders.WithProtocol(session, envelope).Should().Be(expected);
        SmtpTraceHeaders.Format(session, envelope, "mx", Now).Should().Contain(" with " + expected + " id ");
    }

    [Theory]
    [InlineData(false, false, false, "LMTP")]
    [InlineData(false, true, false, "LMTPS")]
    [InlineData(false, false, true, "LMTPA")]
    [InlineData(false, true, true, "LMTPSA")]
    [InlineData(true, false, false, "UTF8LMTP")]
    [InlineData(true, true, false, "UTF8LMTPS")]
    [InlineData(true, false, true, "UTF8LMTPA")]
    [InlineData(true, true, true, "UTF8LMTPSA")]
    public void With_names_lmtp_for_a_message_that_came_by_lmtp(bool utf8, bool secure, bool authenticated, string expected)
    {
        var basic = Session();
        var session = new SmtpSession("s1", basic.RemoteEndPoint, basic.LocalEndPoint, Now) { HeloName = "mta.example.org", IsExtended = true, IsLmtp = true };
        if (secure)
        {
            session.Tls = new SmtpTlsInfo(System.Security.Authentication.SslProtocols.Tls13, System.Net.Security.TlsCipherSuite.TLS_AES_128_GCM_SHA256, null, null, System.Net.Security.SslPolicyErrors.None, false);
        }

        if (authenticated)
        {
            session.AuthenticatedIdentity = "alice";
        }

        var envelope = Envelope("a@example.org", utf8, "b@example.net");

        SmtpTraceHeaders.WithProtocol(session, envelope).Should().Be(expected);
        SmtpTraceHeaders.Format(session, envelope, "mx", Now).Should().Contain(" with " + expected + " id ").And.NotContain("SMTP");
        session.ProtocolName.Should().Be(expected.Replace("UTF8", string.Empty, StringComparison.Ordinal));
    }

    private static void AssertWellFormed(string headers)
    {
        headers.Should().EndWith("\r\n");
        var lines = headers[..^2].Split("\r\n");
        foreach (var line in lines)
        {
            line.Should().NotContain("\r").And.NotContain("\n");
            line.Length.Should().BeLessThanOrEqualTo(998);
        }

        lines.Where(l => !l.StartsWith('\t')).Should().HaveCount(2, "only Return-Path and Received start a line");
    }
}
