using StartTls.Smtp.Protocol;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>MAIL and RCPT arguments: paths, ESMTP parameters (SIZE, BODY, SMTPUTF8) and the reply for each fault.</summary>
public sealed class EnvelopeParserTests
{
    private const long MaxSize = 1048576;

    [Theory]
    [InlineData("FROM:<a@c.test>", "a@c.test")]
    [InlineData("from:<a@c.test>", "a@c.test")]
    [InlineData("From:<a@c.test>", "a@c.test")]
    [InlineData("FROM: <a@c.test>", "a@c.test")]
    [InlineData("FROM:<a@c.test>  ", "a@c.test")]
    [InlineData("FROM:<@r.test:a@c.test>", "a@c.test")]
    [InlineData("FROM:<\"a b\"@c.test>", "\"a b\"@c.test")]
    [InlineData("FROM:<a@[192.0.2.1]>", "a@[192.0.2.1]")]
    [InlineData("FROM:<>", null)]
    [InlineData("FROM:<> SIZE=0", null)]
    public void Mail_accepts_valid_senders(string arguments, string? expected)
    {
        ParseMail(arguments, out var envelope).Should().Be("OK");
        envelope!.From?.Address.Should().Be(expected);
        (envelope.From is null).Should().Be(expected is null);
        envelope.Recipients.Should().BeEmpty();
    }

    [Theory]
    [InlineData("", "501 5.5.4")]
    [InlineData("FROM", "501 5.5.4")]
    [InlineData("FROM<a@c.test>", "501 5.5.4")]
    [InlineData("TO:<a@c.test>", "501 5.5.4")]
    [InlineData("FROM:", "501 5.1.7")]
    [InlineData("FROM:a@c.test", "501 5.1.7")]
    [InlineData("FROM:<a@c.test", "501 5.1.7")]
    [InlineData("FROM:<a@c..test>", "501 5.1.7")]
    [InlineData("FROM:<Postmaster>", "501 5.1.7")]
    [InlineData("FROM:<a@c.test>junk", "501 5.5.4")]
    [InlineData("FROM:<a@c.test> =x", "501 5.5.4")]
    [InlineData("FROM:<a@c.test> -FOO=1", "501 5.5.4")]
    [InlineData("FROM:<a@c.test> FOO=a=b", "501 5.5.4")]
    [InlineData("FROM:<a@c.test> FOO=\xC3\xB6", "501 5.5.4")]
    [InlineData("FROM:<a@c.test> F_O", "501 5.5.4")]
    public void Mail_refuses_bad_syntax(string arguments, string expected) => ParseMail(arguments, out _).Should().Be(expected);

    [Theory]
    [InlineData("SIZE=0", "OK")]
    [InlineData("SIZE=1", "OK")]
    [InlineData("SIZE=1048576", "OK")] // exactly the maximum
    [InlineData("size=1048576", "OK")]
    [InlineData("SIZE=0001048576", "OK")]
    [InlineData("SIZE=1048577", "552 5.3.4")] // one over
    [InlineData("SIZE=2000000", "552 5.3.4")]
    [InlineData("SIZE=9223372036854775807", "552 5.3.4")] // long.MaxValue
    [InlineData("SIZE=9223372036854775808", "552 5.3.4")] // long.MaxValue + 1
    [InlineData("SIZE=99999999999999999999", "552 5.3.4")] // 20 digits, overflows a long (T37)
    [InlineData("SIZE=999999999999999999999999999999", "552 5.3.4")]
    [InlineData("SIZE=abc", "501 5.5.4")]
    [InlineData("SIZE=-1", "501 5.5.4")]
    [InlineData("SIZE=+1", "501 5.5.4")]
    [InlineData("SIZE=1e3", "501 5.5.4")]
    [InlineData("SIZE=0x10", "501 5.5.4")]
    [InlineData("SIZE=1.5", "501 5.5.4")]
    [InlineData("SIZE=", "501 5.5.4")]
    [InlineData("SIZE", "501 5.5.4")]
    public void Mail_checks_the_declared_size(string parameter, string expected)
    {
        ParseMail("FROM:<a@c.test> " + parameter, out var envelope).Should().Be(expected);
        if (expected == "OK")
        {
            envelope!.DeclaredSize.Should().Be(long.Parse(parameter[5..], System.Globalization.CultureInfo.InvariantCulture));
            envelope.MailParameters.Should().ContainKey("SIZE");
        }
    }

    [Theory]
    [InlineData("BODY=7BIT", "OK", SmtpBodyType.SevenBit)]
    [InlineData("BODY=8BITMIME", "OK", SmtpBodyType.EightBitMime)]
    [InlineData("body=8bitmime", "OK", SmtpBodyType.EightBitMime)]
    [InlineData("BODY=7bit", "OK", SmtpBodyType.SevenBit)]
    [InlineData("BODY=BINARYMIME", "OK", SmtpBodyType.BinaryMime)]
    [InlineData("body=binarymime", "OK", SmtpBodyType.BinaryMime)]
    [InlineData("BODY=8BIT", "555 5.5.4", SmtpBodyType.Unspecified)]
    [InlineData("BODY", "501 5.5.4", SmtpBodyType.Unspecified)]
    [InlineData("BODY=", "501 5.5.4", SmtpBodyType.Unspecified)]
    public void Mail_checks_the_body_type(string parameter, string expected, SmtpBodyType body)
    {
        ParseMail("FROM:<a@c.test> " + parameter, out var envelope).Should().Be(expected);
        if (expected == "OK")
        {
            envelope!.BodyType.Should().Be(body);
        }
    }

    [Fact]
    public void Mail_without_parameters_has_none()
    {
        ParseMail("FROM:<a@c.test>", out var envelope).Should().Be("OK");
        envelope!.BodyType.Should().Be(SmtpBodyType.Unspecified);
        envelope.DeclaredSize.Should().BeNull();
        envelope.IsSmtpUtf8.Should().BeFalse();
        envelope.MailParameters.Should().BeEmpty();
    }

    [Fact]
    public void Mail_keeps_all_parameters_with_upper_case_keys()
    {
        ParseMail("FROM:<a@c.test> size=10  body=7BIT smtputf8 ", out var envelope).Should().Be("OK");
        envelope!.MailParameters.Should().BeEquivalentTo(new Dictionary<string, string?> { ["SIZE"] = "10", ["BODY"] = "7BIT", ["SMTPUTF8"] = null });
        envelope.IsSmtpUtf8.Should().BeTrue();
        envelope.DeclaredSize.Should().Be(10);
    }

    [Theory]
    [InlineData("SIZE=1 SIZE=2")]
    [InlineData("BODY=7BIT BODY=8BITMIME")]
    [InlineData("FOO=1 foo=2")]
    public void Mail_refuses_conflicting_duplicate_parameters(string parameters) => ParseMail("FROM:<a@c.test> " + parameters, out _).Should().Be("501 5.5.4");

    [Theory]
    [InlineData("SIZE=1 size=1")]
    [InlineData("SMTPUTF8 SMTPUTF8")] // Python's smtplib sends it twice for non-ASCII addresses
    [InlineData("BODY=8BITMIME body=8bitmime")]
    public void Mail_accepts_identical_repeated_parameters(string parameters) => ParseMail("FROM:<a@c.test> " + parameters, out _).Should().Be("OK");

    [Theory]
    [InlineData("FOO=bar")]
    [InlineData("FOO")]
    [InlineData("X-FOO=1")]
    [InlineData("REQUIRETLS")] // T19: not offered in plaintext
    [InlineData("AUTH=<>")]
    [InlineData("RET=FULL")]
    [InlineData("SIZE=1 ENVID=x")]
    public void Mail_refuses_unknown_parameters(string parameters) => ParseMail("FROM:<a@c.test> " + parameters, out _).Should().Be("555 5.5.4");

    [Fact]
    public void Mail_refuses_disabled_extensions_as_unknown()
    {
        var settings = Settings(o =>
        {
            o.EnableSmtpUtf8 = false;
            o.Enable8BitMime = false;
            o.EnableChunking = false;
        });
        Describe(EnvelopeParser.ParseMail(SequenceBuilder.Bytes("FROM:<a@c.test> SMTPUTF8"), settings, authOffered: false, out _)).Should().Be("555 5.5.4");
        Describe(EnvelopeParser.ParseMail(SequenceBuilder.Bytes("FROM:<a@c.test> BODY=BINARYMIME"), settings, authOffered: false, out _)).Should().Be("555 5.5.4");
        Describe(EnvelopeParser.ParseMail(SequenceBuilder.Bytes("FROM:<a@c.test> BODY=8BITMIME"), settings, authOffered: false, out _)).Should().Be("555 5.5.4");
        Describe(EnvelopeParser.ParseMail(SequenceBuilder.Bytes("FROM:<a@c.test> BODY=7BIT"), settings, authOffered: false, out _)).Should().Be("OK");
    }

    [Theory]
    [InlineData("FROM:<j\xC3\xB6@c.test>", "550 5.6.7")] // T30
    [InlineData("FROM:<a@b\xC3\xBC.test>", "550 5.6.7")]
    [InlineData("FROM:<j\xC3\xB6@c.test> SMTPUTF8", "OK")]
    [InlineData("FROM:<j\xC3\xB6@c.test> smtputf8 BODY=8BITMIME", "OK")]
    [InlineData("FROM:<a@c.test> SMTPUTF8", "OK")]
    [InlineData("FROM:<a@c.test> SMTPUTF8=yes", "501 5.5.4")]
    [InlineData("FROM:<j\xF6@c.test> SMTPUTF8", "501 5.5.2")] // invalid UTF-8
    [InlineData("FROM:<j\xF6@c.test>", "501 5.5.2")]
    [InlineData("FROM:<j\xC0\xAF@c.test> SMTPUTF8", "501 5.5.2")]
    public void Mail_applies_smtputf8_rules(string arguments, string expected)
    {
        ParseMail(arguments, out var envelope).Should().Be(expected);
        if (expected == "OK")
        {
            envelope!.IsSmtpUtf8.Should().BeTrue();
        }
    }

    [Fact]
    public void Mail_decodes_a_utf8_sender()
    {
        ParseMail("FROM:<j\xC3\xB6@b\xC3\xBC.test> SMTPUTF8", out var envelope).Should().Be("OK");
        envelope!.From!.Address.Should().Be("jö@bü.test");
    }

    [Fact]
    public void Mail_applies_the_255_octet_domain_limit_but_no_local_part_cap()
    {
        var label = new string('d', 63);
        var domain255 = string.Join('.', label, label, label, label);
        ParseMail("FROM:<" + new string('l', 64) + "@" + domain255 + ">", out _).Should().Be("OK");
        ParseMail("FROM:<" + new string('l', 65) + "@c.test>", out _).Should().Be("OK"); // SRS/VERP senders exceed 64
        ParseMail("FROM:<a@x" + domain255 + ">", out _).Should().Be("501 5.1.7");
    }

    [Theory]
    [InlineData("TO:<b@s.test>", "b@s.test")]
    [InlineData("to:<b@s.test>", "b@s.test")]
    [InlineData("TO: <b@s.test>", "b@s.test")]
    [InlineData("TO:<b@s.test> ", "b@s.test")]
    [InlineData("TO:<Postmaster>", "Postmaster")]
    [InlineData("TO:<postmaster>", "postmaster")]
    [InlineData("TO:<Postmaster@s.test>", "Postmaster@s.test")]
    [InlineData("TO:<@r1.test,@r2.test:b@s.test>", "b@s.test")]
    [InlineData("TO:<b@[IPv6:2001:db8::2]>", "b@[IPv6:2001:db8::2]")]
    public void Rcpt_accepts_valid_recipients(string arguments, string expected)
    {
        ParseRcpt(arguments, smtpUtf8: false, out var recipient).Should().Be("OK");
        recipient!.Mailbox.Address.Should().Be(expected);
        recipient.Parameters.Should().BeEmpty();
    }

    [Theory]
    [InlineData("", "501 5.5.4")]
    [InlineData("TO", "501 5.5.4")]
    [InlineData("FROM:<b@s.test>", "501 5.5.4")]
    [InlineData("TO:<>", "501 5.1.3")]
    [InlineData("TO:", "501 5.1.3")]
    [InlineData("TO:b@s.test", "501 5.1.3")]
    [InlineData("TO:<b@s.test", "501 5.1.3")]
    [InlineData("TO:<root>", "501 5.1.3")]
    [InlineData("TO:<b@-s.test>", "501 5.1.3")]
    [InlineData("TO:<b@s.test>junk", "501 5.5.4")]
    [InlineData("TO:<b@s.test> NOTIFY=NEVER", "555 5.5.4")]
    [InlineData("TO:<b@s.test> ORCPT=rfc822;b@s.test", "555 5.5.4")]
    [InlineData("TO:<b@s.test> FOO", "555 5.5.4")]
    [InlineData("TO:<b@s.test> FOO=1 FOO=2", "501 5.5.4")]
    [InlineData("TO:<j\xF6@s.test>", "501 5.5.2")]
    public void Rcpt_refuses_bad_recipients(string arguments, string expected) => ParseRcpt(arguments, smtpUtf8: true, out _).Should().Be(expected);

    [Theory]
    [InlineData(false, "553 5.6.7")]
    [InlineData(true, "OK")]
    public void Rcpt_needs_smtputf8_for_a_utf8_address(bool smtpUtf8, string expected)
    {
        ParseRcpt("TO:<j\xC3\xB6@s.test>", smtpUtf8, out var recipient).Should().Be(expected);
        if (smtpUtf8)
        {
            recipient!.Mailbox.LocalPart.Should().Be("jö");
        }
    }

    private static ProtocolSettings Settings(Action<SmtpServerOptions>? configure = null)
    {
        var options = new SmtpServerOptions { MaxMessageSize = MaxSize };
        configure?.Invoke(options);
        return new ProtocolSettings(options, "mx.test");
    }

    private static string ParseMail(string arguments, out SmtpEnvelope? envelope)
        => Describe(EnvelopeParser.ParseMail(SequenceBuilder.Bytes(arguments), Settings(), authOffered: false, out envelope));

    private static string ParseRcpt(string arguments, bool smtpUtf8, out SmtpRecipient? recipient)
        => Describe(EnvelopeParser.ParseRcpt(SequenceBuilder.Bytes(arguments), smtpUtf8, out recipient));

    private static string Describe(SmtpReply? reply) => reply is null ? "OK" : reply.Code + " " + reply.EnhancedStatusCode;
}
