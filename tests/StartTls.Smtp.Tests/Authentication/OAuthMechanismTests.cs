using System.Text.Json;
using StartTls.Smtp.Authentication;

namespace StartTls.Smtp.Tests.Authentication;

public class OAuthBearerMechanismTests
{
    // RFC 7628 §4.1, with port 587.
    private const string Token = "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==";
    private const string RfcMessage = "n,a=user@example.com,\u0001host=server.example.com\u0001port=587\u0001auth=Bearer " + Token + "\u0001\u0001";

    private static (ISaslExchange Exchange, TestTokenValidator Validator) Start()
    {
        var validator = new TestTokenValidator(Token, "user@example.com");
        var options = new SmtpAuthenticationOptions { OAuthTokenValidator = validator };
        return (new OAuthBearerMechanism().CreateExchange(SaslTestKit.CreateContext(options, secure: true)), validator);
    }

    [Fact]
    public async Task Valid_token_succeeds_with_the_validators_identity()
    {
        var (exchange, validator) = Start();

        var result = await exchange.StepAsync(RfcMessage);

        result.Kind.Should().Be(SaslStepKind.Success);
        result.Identity.Should().Be("user@example.com");
        result.Challenge.Should().BeNull();
        validator.Calls.Should().Equal(("user@example.com", Token));
    }

    [Fact]
    public async Task Without_authzid_the_user_name_is_null()
    {
        var (exchange, validator) = Start();

        var result = await exchange.StepAsync("n,,\u0001auth=Bearer " + Token + "\u0001\u0001");

        result.Kind.Should().Be(SaslStepKind.Success);
        validator.Calls.Should().Equal(((string?)null, Token));
    }

    [Fact]
    public async Task Without_initial_response_the_server_asks_with_an_empty_challenge()
    {
        var (exchange, _) = Start();

        var prompt = await exchange.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        prompt.Kind.Should().Be(SaslStepKind.Continue);
        prompt.Challenge.Should().BeEmpty();

        (await exchange.StepAsync(RfcMessage)).Kind.Should().Be(SaslStepKind.Success);
    }

    [Fact]
    public async Task Invalid_token_fails_with_the_rfc7628_json_error_challenge()
    {
        var (exchange, _) = Start();

        var result = await exchange.StepAsync(RfcMessage.Replace(Token, "bad-token", StringComparison.Ordinal));

        result.Kind.Should().Be(SaslStepKind.FailureWithChallenge);
        result.Text().Should().Be("""{"status":"invalid_token","schemes":"bearer"}""");
        using var json = JsonDocument.Parse(result.Challenge);
        json.RootElement.GetProperty("status").GetString().Should().Be("invalid_token");
    }

    [Theory]
    [InlineData("n,,\u0001\u0001")] // no auth
    [InlineData("n,,\u0001auth=Bearer abc\u0001")] // missing final kvsep
    [InlineData("n,,auth=Bearer abc\u0001\u0001")] // missing leading kvsep
    [InlineData("n,,\u0001auth=Basic abc\u0001\u0001")]
    [InlineData("n,,\u0001auth=Bearer \u0001\u0001")]
    [InlineData("n,,\u0001auth=Bearer a b\u0001\u0001")]
    [InlineData("n,,\u0001auth=Bearer abc\u0001auth=Bearer abc\u0001\u0001")]
    [InlineData("n,,\u0001=v\u0001auth=Bearer abc\u0001\u0001")]
    [InlineData("p=tls-unique,,\u0001auth=Bearer abc\u0001\u0001")]
    [InlineData("n,user,\u0001auth=Bearer abc\u0001\u0001")]
    [InlineData("n,a=,\u0001auth=Bearer abc\u0001\u0001")]
    [InlineData("\u0001")]
    public async Task Malformed_message_gets_501(string message)
    {
        var (exchange, validator) = Start();

        var result = await exchange.StepAsync(message);

        result.Kind.Should().Be(SaslStepKind.Failure);
        result.FailureReply.Should().Be(SaslReplies.Malformed);
        validator.Calls.Should().BeEmpty();
    }

    [Fact]
    public async Task Host_and_port_are_informational_only()
    {
        // MailKit sends "port=-1" when it was handed a connected socket.
        var (exchange, validator) = Start();

        var result = await exchange.StepAsync("n,a=alice,\u0001host=mx.test\u0001port=-1\u0001auth=Bearer " + Token + "\u0001\u0001");

        result.Kind.Should().Be(SaslStepKind.Success);
        validator.Calls.Should().Equal(("alice", Token));
    }

    [Fact]
    public async Task Bearer_scheme_is_case_insensitive_and_authzid_is_unescaped()
    {
        var (exchange, validator) = Start();

        await exchange.StepAsync("y,a=a=2Cb=3Dc,\u0001auth=bearer " + Token + "\u0001\u0001");

        validator.Calls.Should().Equal(("a,b=c", Token));
    }

    [Fact]
    public void Availability_and_flags()
    {
        var mechanism = new OAuthBearerMechanism();

        mechanism.Name.Should().Be("OAUTHBEARER");
        mechanism.IsClientFirst.Should().BeTrue();
        mechanism.ExposesSecret.Should().BeTrue();
        mechanism.IsAvailable(SaslTestKit.CreateContext(new SmtpAuthenticationOptions())).Should().BeFalse();
        mechanism.IsAvailable(SaslTestKit.CreateContext(new SmtpAuthenticationOptions { OAuthTokenValidator = new TestTokenValidator("x", "y") }))
            .Should().BeTrue();
    }
}

public class XOAuth2MechanismTests
{
    private const string Token = "ya29.vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg";
    private const string Message = "user=someuser@example.com\u0001auth=Bearer " + Token + "\u0001\u0001";

    private static (ISaslExchange Exchange, TestTokenValidator Validator) Start()
    {
        var validator = new TestTokenValidator(Token, "someuser@example.com");
        var options = new SmtpAuthenticationOptions { OAuthTokenValidator = validator };
        return (new XOAuth2Mechanism().CreateExchange(SaslTestKit.CreateContext(options, secure: true)), validator);
    }

    [Fact]
    public async Task Valid_token_succeeds()
    {
        var (exchange, validator) = Start();

        var result = await exchange.StepAsync(Message);

        result.Kind.Should().Be(SaslStepKind.Success);
        result.Identity.Should().Be("someuser@example.com");
        validator.Calls.Should().Equal(("someuser@example.com", Token));
    }

    [Fact]
    public async Task Without_initial_response_the_server_asks_with_an_empty_challenge()
    {
        var (exchange, _) = Start();

        var prompt = await exchange.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        prompt.Kind.Should().Be(SaslStepKind.Continue);
        prompt.Challenge.Should().BeEmpty();

        (await exchange.StepAsync(Message)).Kind.Should().Be(SaslStepKind.Success);
    }

    [Fact]
    public async Task Invalid_token_fails_with_a_json_error_challenge()
    {
        var (exchange, _) = Start();

        var result = await exchange.StepAsync(Message.Replace(Token, "expired", StringComparison.Ordinal));

        result.Kind.Should().Be(SaslStepKind.FailureWithChallenge);
        result.Text().Should().Be("""{"status":"401","schemes":"bearer"}""");
        using var json = JsonDocument.Parse(result.Challenge);
        json.RootElement.GetProperty("status").GetString().Should().Be("401");
    }

    [Theory]
    [InlineData("user=someuser@example.com\u0001auth=Bearer abc\u0001")]
    [InlineData("user=someuser@example.com\u0001auth=Bearer abc")]
    [InlineData("user=\u0001auth=Bearer abc\u0001\u0001")]
    [InlineData("auth=Bearer abc\u0001\u0001")]
    [InlineData("user=someuser@example.com\u0001\u0001")]
    [InlineData("user=someuser@example.com\u0001auth=Bearer\u0001\u0001")]
    [InlineData("user=someuser@example.com\u0001auth=Token abc\u0001\u0001")]
    [InlineData("user=a\u0001user=b\u0001auth=Bearer abc\u0001\u0001")]
    public async Task Malformed_message_gets_501(string message)
    {
        var (exchange, validator) = Start();

        var result = await exchange.StepAsync(message);

        result.Kind.Should().Be(SaslStepKind.Failure);
        result.FailureReply.Should().Be(SaslReplies.Malformed);
        validator.Calls.Should().BeEmpty();
    }

    [Fact]
    public void Availability_and_flags()
    {
        var mechanism = new XOAuth2Mechanism();

        mechanism.Name.Should().Be("XOAUTH2");
        mechanism.IsClientFirst.Should().BeTrue();
        mechanism.ExposesSecret.Should().BeTrue();
        mechanism.IsAvailable(SaslTestKit.CreateContext(new SmtpAuthenticationOptions())).Should().BeFalse();
        mechanism.IsAvailable(SaslTestKit.CreateContext(new SmtpAuthenticationOptions { OAuthTokenValidator = new TestTokenValidator("x", "y") }))
            .Should().BeTrue();
    }
}
