using System.Text.RegularExpressions;
using StartTls.Smtp.Authentication;

namespace StartTls.Smtp.Tests.Authentication;

public class CramMd5MechanismTests
{
    // RFC 2195 §2.
    private const string RfcChallenge = "<1896.697170952@postoffice.reston.mci.net>";
    private const string RfcResponse = "tim b913a602c7eda7a495b4e6e7334d3890";

    private static SmtpAuthenticationOptions Options(bool enabled = true) => new()
    {
        CramMd5SecretProvider = new TestCramMd5Provider(new() { ["tim"] = "tanstaaftanstaaf" }),
        EnableCramMd5 = enabled,
    };

    private static ISaslExchange Start(Func<SaslContext, string>? challenge = null)
        => new CramMd5Mechanism(challenge ?? (_ => RfcChallenge)).CreateExchange(SaslTestKit.CreateContext(Options()));

    [Fact]
    public async Task Rfc2195_example_succeeds()
    {
        var exchange = Start();

        var challenge = await exchange.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        challenge.Kind.Should().Be(SaslStepKind.Continue);
        challenge.Text().Should().Be(RfcChallenge);

        var result = await exchange.StepAsync(RfcResponse);
        result.Kind.Should().Be(SaslStepKind.Success);
        result.Identity.Should().Be("tim");
        result.Challenge.Should().BeNull();
    }

    [Fact]
    public async Task Uppercase_hex_is_tolerated()
    {
        var exchange = Start();
        await exchange.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);

        (await exchange.StepAsync(RfcResponse.ToUpperInvariant().Replace("TIM", "tim", StringComparison.Ordinal))).Kind
            .Should().Be(SaslStepKind.Success);
    }

    [Theory]
    [InlineData("tim b913a602c7eda7a495b4e6e7334d3891")] // wrong digest
    [InlineData("tom b913a602c7eda7a495b4e6e7334d3890")] // unknown user
    public async Task Wrong_digest_and_unknown_user_fail_alike(string response)
    {
        var exchange = Start();
        await exchange.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);

        var result = await exchange.StepAsync(response);

        result.Kind.Should().Be(SaslStepKind.Failure);
        result.FailureReply.Should().BeNull();
    }

    [Fact]
    public async Task A_different_challenge_gives_a_different_digest()
    {
        var exchange = Start(_ => "<1897.697170952@postoffice.reston.mci.net>");
        await exchange.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);

        (await exchange.StepAsync(RfcResponse)).Kind.Should().Be(SaslStepKind.Failure);
    }

    [Theory]
    [InlineData("tim")]
    [InlineData(" b913a602c7eda7a495b4e6e7334d3890")]
    [InlineData("tim b913a602c7eda7a495b4e6e7334d389")]
    [InlineData("tim b913a602c7eda7a495b4e6e7334d38900")]
    [InlineData("tim b913a602c7eda7a495b4e6e7334d389g")]
    [InlineData("tim\0x b913a602c7eda7a495b4e6e7334d3890")]
    [InlineData("")]
    public async Task Malformed_response_gets_501(string response)
    {
        var exchange = Start();
        await exchange.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);

        var result = await exchange.StepAsync(response);

        result.Kind.Should().Be(SaslStepKind.Failure);
        result.FailureReply.Should().Be(SaslReplies.Malformed);
    }

    [Fact]
    public async Task Default_challenge_is_a_fresh_msg_id_with_the_server_name()
    {
        var mechanism = new CramMd5Mechanism();
        var shape = new Regex(@"^<\d+\.\d+@mx\.test>$");
        var first = (await mechanism.CreateExchange(SaslTestKit.CreateContext(Options())).StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None)).Text();
        var second = (await mechanism.CreateExchange(SaslTestKit.CreateContext(Options())).StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None)).Text();

        first.Should().MatchRegex(shape.ToString());
        second.Should().MatchRegex(shape.ToString());
        first.Should().NotBe(second);
    }

    [Fact]
    public async Task An_initial_response_is_refused()
    {
        var result = await Start().StepAsync(RfcResponse);

        result.Kind.Should().Be(SaslStepKind.Failure);
        result.FailureReply.Should().Be(SaslReplies.InitialResponseNotAllowed);
    }

    [Fact]
    public void Availability_and_flags()
    {
        var mechanism = new CramMd5Mechanism();

        mechanism.Name.Should().Be("CRAM-MD5");
        mechanism.IsClientFirst.Should().BeFalse();
        mechanism.ExposesSecret.Should().BeFalse();
        mechanism.RequiresTls.Should().BeFalse();
        mechanism.IsAvailable(SaslTestKit.CreateContext(Options())).Should().BeTrue();
        mechanism.IsAvailable(SaslTestKit.CreateContext(Options(enabled: false))).Should().BeFalse();
        mechanism.IsAvailable(SaslTestKit.CreateContext(new SmtpAuthenticationOptions { EnableCramMd5 = true })).Should().BeFalse();
    }
}
