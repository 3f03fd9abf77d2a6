using System.Globalization;
using System.Text;
using StartTls.Smtp.Protocol;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>Verb recognition: ASCII case rules only, whatever the culture (docs/threat-model.md T31).</summary>
public sealed class VerbParserTests
{
    public static TheoryData<string, string> Verbs => new()
    {
        { "HELO", nameof(SmtpVerb.Helo) },
        { "EHLO", nameof(SmtpVerb.Ehlo) },
        { "MAIL", nameof(SmtpVerb.Mail) },
        { "RCPT", nameof(SmtpVerb.Rcpt) },
        { "DATA", nameof(SmtpVerb.Data) },
        { "RSET", nameof(SmtpVerb.Rset) },
        { "NOOP", nameof(SmtpVerb.Noop) },
        { "QUIT", nameof(SmtpVerb.Quit) },
        { "VRFY", nameof(SmtpVerb.Vrfy) },
        { "EXPN", nameof(SmtpVerb.Expn) },
        { "HELP", nameof(SmtpVerb.Help) },
        { "STARTTLS", nameof(SmtpVerb.StartTls) },
        { "AUTH", nameof(SmtpVerb.Auth) },
        { "BDAT", nameof(SmtpVerb.Bdat) },
        { "XCLIENT", nameof(SmtpVerb.Xclient) },
    };

    [Theory]
    [MemberData(nameof(Verbs))]
    public void Recognises_each_verb_in_upper_lower_and_mixed_case(string verb, string expected)
    {
        var mixed = string.Concat(verb.Select((c, i) => i % 2 == 0 ? char.ToLowerInvariant(c) : c));
        var mixed2 = string.Concat(verb.Select((c, i) => i % 2 == 1 ? char.ToLowerInvariant(c) : c));
        foreach (var form in new[] { verb, verb.ToLowerInvariant(), mixed, mixed2 })
        {
            Parse(form).Should().Be(expected, "'{0}' is the verb {1}", form, verb);
            Parse(form + " some args", out var arguments).Should().Be(expected);
            arguments.Should().Be("some args");
        }
    }

    [Theory]
    [MemberData(nameof(Verbs))]
    public void Recognises_each_verb_under_the_turkish_culture(string verb, string expected)
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("tr-TR");
            Parse(verb.ToLowerInvariant()).Should().Be(expected);
            Parse(verb).Should().Be(expected);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Theory]
    [InlineData("\xC5\xBFTARTTLS")] // ſTARTTLS: ToUpperInvariant folds it to STARTTLS
    [InlineData("MA\xC4\xB1L")] // MAıL: ToUpper(tr-TR) folds it to MAIL
    [InlineData("\xC4\xB0NFO")]
    [InlineData("MA\xC4\xB0L")] // MAİL
    [InlineData("EHL\xC3\x96")]
    [InlineData("STARTTL\xC5\xBF")]
    [InlineData("STARTTLSX")]
    [InlineData("STARTTL")]
    [InlineData("XCLIENTX")]
    [InlineData("XCLIEN")]
    [InlineData("MAI")]
    [InlineData("MAILX")]
    [InlineData("MAI1")]
    [InlineData("MA@L")] // '@' | 0x20 is '`', never a letter
    [InlineData("M\x01IL")] // 0x01 | 0x20 is '!', never a letter
    [InlineData("\xCD\xC1\xC9\xCC")] // 'MAIL' with the high bit set
    [InlineData("XYZZY")]
    [InlineData("")]
    [InlineData(" MAIL")]
    [InlineData("MAIL\x00")]
    [InlineData("STARTTLS\x00")]
    public void Look_alikes_and_near_misses_are_unknown(string verb)
    {
        Parse(verb).Should().Be(nameof(SmtpVerb.Unknown));
        Parse(verb + " FROM:<a@c.test>").Should().Be(nameof(SmtpVerb.Unknown));
    }

    [Fact]
    public void The_look_alikes_really_do_fold_to_verbs_with_culture_aware_case_mapping()
    {
        // The premise of T31: naive string code would accept them.
        "ſTARTTLS".ToUpperInvariant().Should().Be("STARTTLS");
        "MAıL".ToUpper(CultureInfo.GetCultureInfo("tr-TR")).Should().Be("MAIL");
        Encoding.UTF8.GetString(SequenceBuilder.Bytes("\xC5\xBFTARTTLS")).Should().Be("ſTARTTLS");
    }

    [Theory]
    [InlineData("NOOP", "")]
    [InlineData("NOOP ", "")]
    [InlineData("MAIL FROM:<a@c.test> SIZE=1", "FROM:<a@c.test> SIZE=1")]
    [InlineData("EHLO  two.spaces", " two.spaces")]
    public void Arguments_follow_the_first_space(string line, string expected)
    {
        Parse(line, out var arguments);
        arguments.Should().Be(expected);
    }

    private static string Parse(string line) => Parse(line, out _);

    private static string Parse(string line, out string arguments)
    {
        var verb = VerbParser.Parse(SequenceBuilder.Bytes(line), out var args);
        arguments = Encoding.Latin1.GetString(args);
        return verb.ToString();
    }
}
