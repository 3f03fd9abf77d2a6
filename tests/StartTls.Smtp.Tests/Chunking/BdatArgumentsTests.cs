using StartTls.Smtp.Protocol;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Chunking;

/// <summary>The BDAT argument grammar of RFC 3030 §2, on bytes (docs/threat-model.md T48).</summary>
public sealed class BdatArgumentsTests
{
    [Theory]
    [InlineData("0", 0, false)]
    [InlineData("0 LAST", 0, true)]
    [InlineData("13 LAST", 13, true)]
    [InlineData("13 last", 13, true)]
    [InlineData("13 LaSt", 13, true)]
    [InlineData("007", 7, false)]
    [InlineData("999999999999999999", 999_999_999_999_999_999, false)]
    [InlineData("0000000000000000000000000042 LAST", 42, true)]
    public void Valid_sizes_parse(string arguments, long size, bool last)
    {
        BdatArguments.Parse(SequenceBuilder.Bytes(arguments), out var parsed, out var isLast).Should().Be(BdatParse.Ok);
        parsed.Should().Be(size);
        isLast.Should().Be(last);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("-1")]
    [InlineData("+5")]
    [InlineData("1e3")]
    [InlineData("0x10")]
    [InlineData("5.0")]
    [InlineData(" 5")]
    [InlineData("5 ")]
    [InlineData("5  LAST")]
    [InlineData("5 LAST ")]
    [InlineData("5 LAST x")]
    [InlineData("5 LASTX")]
    [InlineData("5 LAS")]
    [InlineData("5\tLAST")]
    [InlineData("5\rLAST")]
    [InlineData("LAST")]
    [InlineData("99999999999999999999 LAST x")]
    public void Malformed_sizes_are_syntax_errors(string arguments)
        => BdatArguments.Parse(SequenceBuilder.Bytes(arguments), out _, out _).Should().Be(BdatParse.Syntax);

    [Theory]
    [InlineData("1000000000000000000")]
    [InlineData("99999999999999999999 LAST")]
    [InlineData("9223372036854775808")]
    [InlineData("184467440737095516160000")]
    public void Sizes_beyond_the_bound_are_out_of_range_without_overflow(string arguments)
    {
        BdatArguments.Parse(SequenceBuilder.Bytes(arguments), out var size, out _).Should().Be(BdatParse.OutOfRange);
        size.Should().Be(0);
    }
}
