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

    [Theory]
    [InlineData("RET=FULL", DsnReturn.Full, null)]
    [InlineData("ret=hdrs", DsnReturn.Headers, null)]
    [InlineData("ENVID=QQ314159", DsnReturn.Unspecified, "QQ314159")]
    [InlineData("RET=HDRS ENVID=a+2Bb+3Dc", DsnReturn.Headers, "a+b=c")]
    [InlineData("SIZE=1 ENVID=x", DsnReturn.Unspecified, "x")]
    public void Mail_accepts_dsn_parameters(string parameters, DsnReturn ret, string? envelopeId)
    {
        ParseMail("FROM:<a@c.test> " + parameters, out var envelope).Should().Be("OK");
        envelope!.DsnReturn.Should().Be(ret);
        envelope.DsnEnvelopeId.Should().Be(envelopeId);
    }

    [Theory]
    [InlineData("RET")]
    [InlineData("RET=ALL")]
    [InlineData("RET=FULL,HDRS")]
    [InlineData("ENVID")]
    [InlineData("ENVID=a+2")]
    [InlineData("ENVID=a+ZZb")]
    [InlineData("ENVID=a+0Db")] // an escaped CR could break a header a store writes from it
    [InlineData("ENVID=a+00")]
    [InlineData("ENVID=a+C3+A9")] // xtext is ASCII
    [InlineData("RET=FULL RET=HDRS")]
    public void Mail_refuses_malformed_dsn_parameters(string parameters)
        => ParseMail("FROM:<a@c.test> " + parameters, out _).Should().Be("501 5.5.4");

    [Fact]
    public void Mail_refuses_an_envid_over_100_characters()
    {
        ParseMail("FROM:<a@c.test> ENVID=" + new string('e', 100), out _).Should().Be("OK");
        ParseMail("FROM:<a@c.test> ENVID=" + new string('e', 101), out _).Should().Be("501 5.5.4");
    }

    [Fact]
    public void Dsn_parameters_are_unknown_when_dsn_is_off()
    {
        var settings = Settings(o => o.EnableDsn = false);
        Describe(EnvelopeParser.ParseMail(SequenceBuilder.Bytes("FROM:<a@c.test> RET=FULL"), settings, authOffered: false, out _)).Should().Be("555 5.5.4");
        Describe(EnvelopeParser.ParseMail(SequenceBuilder.Bytes("FROM:<a@c.test> ENVID=x"), settings, authOffered: false, out _)).Should().Be("555 5.5.4");
        Describe(EnvelopeParser.ParseRcpt(SequenceBuilder.Bytes("TO:<b@s.test> NOTIFY=NEVER"), smtpUtf8: false, dsn: false, out _)).Should().Be("555 5.5.4");
    }

    [Theory]
    [InlineData(true, true, "OK")]
    [InlineData(false, true, "555 5.5.4")] // T19: not offered in plaintext, so unknown there
    [InlineData(true, false, "555 5.5.4")]
    public void Requiretls_is_accepted_only_on_a_tls_session(bool secure, bool enabled, string expected)
    {
        var settings = Settings(o => o.EnableRequireTls = enabled);
        Describe(EnvelopeParser.ParseMail(SequenceBuilder.Bytes("FROM:<a@c.test> REQUIRETLS"), settings, authOffered: false, secure, out var envelope)).Should().Be(expected);
        if (expected == "OK")
        {
            envelope!.RequireTls.Should().BeTrue();
        }

        Describe(EnvelopeParser.ParseMail(SequenceBuilder.Bytes("FROM:<a@c.test> REQUIRETLS=yes"), settings, authOffered: false, secure: true, out _))
            .Should().Be(enabled ? "501 5.5.4" : "555 5.5.4");
    }

    [Theory]
    [InlineData("NOTIFY=NEVER", DsnNotify.Never)]
    [InlineData("NOTIFY=SUCCESS", DsnNotify.Success)]
    [InlineData("NOTIFY=success,failure", DsnNotify.Success | DsnNotify.Failure)]
    [InlineData("NOTIFY=DELAY,FAILURE,SUCCESS", DsnNotify.Success | DsnNotify.Failure | DsnNotify.Delay)]
    public void Rcpt_accepts_notify(string parameter, DsnNotify expected)
    {
        ParseDsnRcpt("TO:<b@s.test> " + parameter, out var recipient).Should().Be("OK");
        recipient!.DsnNotify.Should().Be(expected);
        recipient.OriginalRecipient.Should().BeNull();
    }

    [Theory]
    [InlineData("ORCPT=rfc822;b@s.test", "rfc822", "b@s.test")]
    [InlineData("ORCPT=RFC822;b+2Bx@s.test", "RFC822", "b+x@s.test")]
    [InlineData("ORCPT=utf-8;j\\x{F6}rg@s.test", "utf-8", "jörg@s.test")]
    public void Rcpt_accepts_orcpt(string parameter, string type, string address)
    {
        ParseDsnRcpt("TO:<b@s.test> NOTIFY=FAILURE " + parameter, out var recipient).Should().Be("OK");
        recipient!.OriginalRecipient!.AddressType.Should().Be(type);
        recipient.OriginalRecipient.Address.Should().Be(address);
        recipient.DsnNotify.Should().Be(DsnNotify.Failure);
    }

    [Theory]
    [InlineData("NOTIFY")]
    [InlineData("NOTIFY=")]
    [InlineData("NOTIFY=ALWAYS")]
    [InlineData("NOTIFY=NEVER,SUCCESS")]
    [InlineData("NOTIFY=SUCCESS,NEVER")]
    [InlineData("NOTIFY=SUCCESS,SUCCESS")]
    [InlineData("NOTIFY=SUCCESS,")]
    [InlineData("NOTIFY=,SUCCESS")]
    [InlineData("ORCPT")]
    [InlineData("ORCPT=b@s.test")]
    [InlineData("ORCPT=rfc822;")]
    [InlineData(";b@s.test")]
    [InlineData("ORCPT=;b@s.test")]
    [InlineData("ORCPT=rfc(822);b@s.test")]
    [InlineData("ORCPT=rfc822;b+0D+0ABcc:x@s.test")]
    [InlineData("ORCPT=utf-8;j\\x{0}rg@s.test")]
    [InlineData("ORCPT=utf-8;j\\x{110000}rg@s.test")]
    [InlineData("ORCPT=utf-8;j\\x{F6rg@s.test")]
    public void Rcpt_refuses_malformed_dsn_parameters(string parameter)
        => ParseDsnRcpt("TO:<b@s.test> " + parameter, out _).Should().BeOneOf("501 5.5.4");

    [Fact]
    public void Rcpt_refuses_an_orcpt_over_500_characters()
    {
        ParseDsnRcpt("TO:<b@s.test> ORCPT=rfc822;" + new string('o', 493), out _).Should().Be("OK");
        ParseDsnRcpt("TO:<b@s.test> ORCPT=rfc822;" + new string('o', 494), out _).Should().Be("501 5.5.4");
    }

    private static string ParseDsnRcpt(string arguments, out SmtpRecipient? recipient)
        => Describe(EnvelopeParser.ParseRcpt(SequenceBuilder.Bytes(arguments), smtpUtf8: false, dsn: true, out recipient));

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
