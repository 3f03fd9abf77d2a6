using System.Security.Authentication;
using System.Text;
using System.Text.RegularExpressions;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.Tests.Authentication;

public class ScramSha256MechanismTests
{
    // RFC 7677 §3.
    private const string RfcServerNonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    private const string RfcClientFirst = "n,,n=user,r=rOprNGfwEbeRWgbNEkqO";
    private const string RfcServerFirst = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    private const string RfcClientFinal = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    private const string RfcServerFinal = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";

    private static readonly Regex ServerFirstShape = new(@"^r=(?<r>[\x21-\x2B\x2D-\x7E]+),s=(?<s>[A-Za-z0-9+/]+=*),i=(?<i>\d+)$");

    private static readonly ScramCredential Pencil =
        ScramCredential.FromPassword("pencil", 4096, Convert.FromBase64String("W22ZaJ0SNY7soEsUEjb6gQ=="));

    // A Finished message's verify_data: 12 bytes in TLS 1.2.
    private static readonly byte[] Unique = [0x5e, 0x11, 0x0a, 0x42, 0x9c, 0x07, 0xd3, 0x71, 0x28, 0xb6, 0x4f, 0xe0];

    private static (ISaslExchange Exchange, TestScramProvider Provider) Start(
        bool plus = false, bool secure = false, byte[]? binding = null, Func<string>? nonce = null, SmtpAuthenticationOptions? options = null,
        SslProtocols protocol = SslProtocols.Tls13, byte[]? unique = null)
    {
        var provider = new TestScramProvider().Add("user", Pencil);
        options ??= new SmtpAuthenticationOptions();
        options.ScramCredentialProvider = provider;
        var mechanism = new ScramSha256Mechanism(plus, nonce);
        return (mechanism.CreateExchange(SaslTestKit.CreateContext(options, secure, binding, protocol, unique)), provider);
    }

    [Fact]
    public async Task Rfc7677_example_exchange_matches_exactly()
    {
        var (exchange, provider) = Start(nonce: () => RfcServerNonce);

        var first = await exchange.StepAsync(RfcClientFirst);
        first.Kind.Should().Be(SaslStepKind.Continue);
        first.Text().Should().Be(RfcServerFirst);
        provider.Requested.Should().Equal("user");

        var final = await exchange.StepAsync(RfcClientFinal);
        final.Kind.Should().Be(SaslStepKind.Success);
        final.Identity.Should().Be("user");
        final.Text().Should().Be(RfcServerFinal);
    }

    [Fact]
    public async Task Without_initial_response_the_server_asks_with_an_empty_challenge()
    {
        var (exchange, _) = Start(nonce: () => RfcServerNonce);

        var prompt = await exchange.StepAsync(ReadOnlyMemory<byte>.Empty, CancellationToken.None);
        prompt.Kind.Should().Be(SaslStepKind.Continue);
        prompt.Challenge.Should().BeEmpty();

        (await exchange.StepAsync(RfcClientFirst)).Text().Should().Be(RfcServerFirst);
        (await exchange.StepAsync(RfcClientFinal)).Kind.Should().Be(SaslStepKind.Success);
    }

    [Fact]
    public async Task Wrong_proof_fails_with_535()
    {
        var (exchange, _) = Start(nonce: () => RfcServerNonce);
        await exchange.StepAsync(RfcClientFirst);

        var final = await exchange.StepAsync(RfcClientFinal.Replace("p=dHzb", "p=dHzc", StringComparison.Ordinal));

        final.Kind.Should().Be(SaslStepKind.Failure);
        final.FailureReply.Should().BeNull();
    }

    [Fact]
    public async Task Wrong_password_fails()
    {
        var (exchange, _) = Start();
        var client = new ScramTestClient("user", "pencil2");
        var serverFirst = (await exchange.StepAsync(client.ClientFirst)).Text();

        var final = await exchange.StepAsync(client.ClientFinal(serverFirst));

        final.Kind.Should().Be(SaslStepKind.Failure);
        final.FailureReply.Should().BeNull();
    }

    [Fact]
    public async Task Computed_client_succeeds_with_a_random_server_nonce()
    {
        var (exchange, _) = Start();
        var client = new ScramTestClient("user", "pencil");

        var serverFirst = (await exchange.StepAsync(client.ClientFirst)).Text();
        var final = await exchange.StepAsync(client.ClientFinal(serverFirst));

        final.Kind.Should().Be(SaslStepKind.Success);
        final.Text().Should().Be(client.ServerSignature);
    }

    [Fact]
    public async Task Server_nonce_is_random_printable_and_long_enough()
    {
        var nonces = new List<string>();
        for (var i = 0; i < 2; i++)
        {
            var (exchange, _) = Start();
            var serverFirst = (await exchange.StepAsync("n,,n=user,r=abc")).Text();
            var match = ServerFirstShape.Match(serverFirst);
            match.Success.Should().BeTrue(serverFirst);
            var r = match.Groups["r"].Value;
            r.Should().StartWith("abc");
            var serverPart = r[3..];
            serverPart.Length.Should().BeGreaterThanOrEqualTo(24); // 18 random bytes in base64
            serverPart.Should().NotContain(",");
            nonces.Add(serverPart);
        }

        nonces[0].Should().NotBe(nonces[1]);
    }

    [Fact]
    public async Task Unknown_user_gets_a_plausible_stable_salt_and_fails_only_at_the_proof()
    {
        async Task<string> ServerFirstFor(string user)
        {
            var (exchange, _) = Start(nonce: () => RfcServerNonce);
            return (await exchange.StepAsync($"n,,n={user},r=rOprNGfwEbeRWgbNEkqO")).Text();
        }

        var known = ServerFirstShape.Match(await ServerFirstFor("user"));
        var ghost1 = ServerFirstShape.Match(await ServerFirstFor("ghost"));
        var ghost2 = ServerFirstShape.Match(await ServerFirstFor("ghost"));
        var other = ServerFirstShape.Match(await ServerFirstFor("phantom"));

        ghost1.Success.Should().BeTrue();
        Convert.FromBase64String(ghost1.Groups["s"].Value).Should().HaveSameCount(Convert.FromBase64String(known.Groups["s"].Value));
        ghost1.Groups["i"].Value.Should().Be(known.Groups["i"].Value);
        ghost1.Groups["s"].Value.Should().Be(ghost2.Groups["s"].Value, "the same unknown user must see the same salt every time");
        ghost1.Groups["s"].Value.Should().NotBe(other.Groups["s"].Value);

        // The whole exchange runs; the failure comes at the end, identical to a wrong password's.
        var (exchange, provider) = Start();
        var client = new ScramTestClient("ghost", "pencil");
        var serverFirst = await exchange.StepAsync(client.ClientFirst);
        serverFirst.Kind.Should().Be(SaslStepKind.Continue);
        provider.Requested.Should().Equal("ghost");
        var final = await exchange.StepAsync(client.ClientFinal(serverFirst.Text()));
        final.Kind.Should().Be(SaslStepKind.Failure);
        final.FailureReply.Should().BeNull();
    }

    [Fact]
    public async Task Changed_nonce_in_client_final_fails()
    {
        var (exchange, _) = Start(nonce: () => RfcServerNonce);
        await exchange.StepAsync(RfcClientFirst);

        var final = await exchange.StepAsync(RfcClientFinal.Replace("$k0,", "$k1,", StringComparison.Ordinal));

        final.Kind.Should().Be(SaslStepKind.Failure);
    }

    [Fact]
    public async Task Authorization_identity_equal_to_the_user_is_the_identity()
    {
        var (exchange, _) = Start();
        var client = new ScramTestClient("user", "pencil", gs2Header: "n,a=user,");

        var serverFirst = (await exchange.StepAsync(client.ClientFirst)).Text();
        var final = await exchange.StepAsync(client.ClientFinal(serverFirst));

        final.Kind.Should().Be(SaslStepKind.Success);
        final.Identity.Should().Be("user");
    }

    [Fact]
    public async Task Authorization_identity_of_another_user_is_refused()
    {
        var (exchange, provider) = Start();
        var client = new ScramTestClient("user", "pencil", gs2Header: "n,a=admin,");

        var result = await exchange.StepAsync(client.ClientFirst);

        result.Kind.Should().Be(SaslStepKind.Failure);
        result.FailureReply.Should().BeNull();
        provider.Requested.Should().BeEmpty();
    }

    [Fact]
    public async Task Escaped_user_names_are_decoded()
    {
        var options = new SmtpAuthenticationOptions();
        var provider = new TestScramProvider().Add("a,b=c", Pencil);
        options.ScramCredentialProvider = provider;
        var exchange = new ScramSha256Mechanism(false).CreateExchange(SaslTestKit.CreateContext(options));
        var client = new ScramTestClient("a=2Cb=3Dc", "pencil");

        var serverFirst = (await exchange.StepAsync(client.ClientFirst)).Text();
        var final = await exchange.StepAsync(client.ClientFinal(serverFirst));

        provider.Requested.Should().Equal("a,b=c");
        final.Kind.Should().Be(SaslStepKind.Success);
        final.Identity.Should().Be("a,b=c");
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("n,,")]
    [InlineData("n,,r=abc")]
    [InlineData("n,,n=user")]
    [InlineData("n,,n=user,r=")]
    [InlineData("n,,n=,r=abc")]
    [InlineData("n,,n=us=41er,r=abc")]
    [InlineData("n,,n=user=,r=abc")]
    [InlineData("x,,n=user,r=abc")]
    [InlineData("n,b=user,n=user,r=abc")]
    [InlineData("n,,n=user,r=abc,1=x")]
    [InlineData("n,,m=ext,n=user,r=abc")]
    [InlineData("n,,n=user,r=ab c")]
    public async Task Malformed_client_first_gets_501(string message)
    {
        var (exchange, provider) = Start();

        var result = await exchange.StepAsync(message);

        result.Kind.Should().Be(SaslStepKind.Failure);
        result.FailureReply.Should().Be(SaslReplies.Malformed);
        provider.Requested.Should().BeEmpty();
    }

    [Theory]
    [InlineData("c=biws,r={0}")]
    [InlineData("r={0},c=biws,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")]
    [InlineData("c=biws,r={0},p=dHzb")]
    [InlineData("c=biws,r={0},p=not*base64")]
    [InlineData("c=bi ws,r={0},p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")]
    [InlineData("c=biws,r={0},,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")]
    public async Task Malformed_client_final_gets_501(string template)
    {
        var (exchange, _) = Start(nonce: () => RfcServerNonce);
        await exchange.StepAsync(RfcClientFirst);

        var result = await exchange.StepAsync(string.Format(template, "rOprNGfwEbeRWgbNEkqO" + RfcServerNonce));

        result.Kind.Should().Be(SaslStepKind.Failure);
        result.FailureReply.Should().Be(SaslReplies.Malformed);
    }

    [Fact]
    public async Task Extensions_in_client_first_are_ignored()
    {
        var (exchange, _) = Start(nonce: () => RfcServerNonce);

        var result = await exchange.StepAsync(RfcClientFirst + ",x=future");

        result.Kind.Should().Be(SaslStepKind.Continue);
    }

    [Fact]
    public async Task Plus_with_the_real_tls_server_end_point_binding_succeeds()
    {
        using var certificate = TestCertificates.IssueServer("mx.test");
        var binding = ChannelBinding.TlsServerEndPoint(certificate)!;
        var (exchange, _) = Start(plus: true, secure: true, binding: binding);
        var client = new ScramTestClient("user", "pencil", gs2Header: "p=tls-server-end-point,,");

        var serverFirst = (await exchange.StepAsync(client.ClientFirst)).Text();
        var final = await exchange.StepAsync(client.ClientFinal(serverFirst, binding));

        final.Kind.Should().Be(SaslStepKind.Success);
        final.Identity.Should().Be("user");
        final.Text().Should().Be(client.ServerSignature);
    }

    [Fact]
    public async Task Plus_with_another_certificates_binding_fails()
    {
        using var certificate = TestCertificates.IssueServer("mx.test");
        using var attacker = TestCertificates.IssueServer("mx.test");
        var (exchange, _) = Start(plus: true, secure: true, binding: ChannelBinding.TlsServerEndPoint(certificate));
        var client = new ScramTestClient("user", "pencil", gs2Header: "p=tls-server-end-point,,");

        var serverFirst = (await exchange.StepAsync(client.ClientFirst)).Text();
        var final = await exchange.StepAsync(client.ClientFinal(serverFirst, ChannelBinding.TlsServerEndPoint(attacker)));

        final.Kind.Should().Be(SaslStepKind.Failure);
        final.FailureReply.Should().BeNull();
    }

    [Fact]
    public async Task Plus_with_a_binding_that_omits_the_gs2_header_fails()
    {
        using var certificate = TestCertificates.IssueServer("mx.test");
        var binding = ChannelBinding.TlsServerEndPoint(certificate)!;
        var (exchange, _) = Start(plus: true, secure: true, binding: binding);
        var client = new ScramTestClient("user", "pencil", gs2Header: "p=tls-server-end-point,,");

        var serverFirst = (await exchange.StepAsync(client.ClientFirst)).Text();
        var final = await exchange.StepAsync(client.ClientFinal(serverFirst, binding, headerInBinding: ""));

        final.Kind.Should().Be(SaslStepKind.Failure);
    }

    [Theory]
    [InlineData("n,,")]
    [InlineData("y,,")]
    public async Task Plus_without_the_p_flag_fails_at_once(string header)
    {
        var (exchange, provider) = Start(plus: true, secure: true, binding: [1, 2, 3], protocol: SslProtocols.Tls12, unique: Unique);

        var result = await exchange.StepAsync(header + "n=user,r=abc");

        result.Kind.Should().Be(SaslStepKind.Failure);
        result.FailureReply.Should().BeNull();
        provider.Requested.Should().BeEmpty();
    }

    [Fact]
    public async Task Plus_with_tls_unique_on_tls12_succeeds()
    {
        var (exchange, _) = Start(plus: true, secure: true, binding: [1, 2, 3], protocol: SslProtocols.Tls12, unique: Unique);
        var client = new ScramTestClient("user", "pencil", gs2Header: "p=tls-unique,,");

        var serverFirst = (await exchange.StepAsync(client.ClientFirst)).Text();
        var final = await exchange.StepAsync(client.ClientFinal(serverFirst, Unique));

        final.Kind.Should().Be(SaslStepKind.Success);
        final.Identity.Should().Be("user");
        final.Text().Should().Be(client.ServerSignature);
    }

    [Fact]
    public async Task Plus_with_another_channels_tls_unique_fails()
    {
        var (exchange, _) = Start(plus: true, secure: true, protocol: SslProtocols.Tls12, unique: Unique);
        var client = new ScramTestClient("user", "pencil", gs2Header: "p=tls-unique,,");
        var other = (byte[])Unique.Clone();
        other[^1] ^= 1;

        var serverFirst = (await exchange.StepAsync(client.ClientFirst)).Text();
        var final = await exchange.StepAsync(client.ClientFinal(serverFirst, other));

        final.Kind.Should().Be(SaslStepKind.Failure);
        final.FailureReply.Should().BeNull();
    }

    [Fact]
    public async Task Plus_on_tls12_still_accepts_tls_server_end_point()
    {
        using var certificate = TestCertificates.IssueServer("mx.test");
        var binding = ChannelBinding.TlsServerEndPoint(certificate)!;
        var (exchange, _) = Start(plus: true, secure: true, binding: binding, protocol: SslProtocols.Tls12, unique: Unique);
        var client = new ScramTestClient("user", "pencil", gs2Header: "p=tls-server-end-point,,");

        var serverFirst = (await exchange.StepAsync(client.ClientFirst)).Text();
        var final = await exchange.StepAsync(client.ClientFinal(serverFirst, binding));

        final.Kind.Should().Be(SaslStepKind.Success);
    }

    public static TheoryData<string, SslProtocols, bool> UnverifiableBindings => new()
    {
        { "p=tls-exporter,,", SslProtocols.Tls13, true }, // RFC 9266: what GNU SASL sends on TLS 1.3
        { "p=tls-exporter,,", SslProtocols.Tls12, true },
        { "p=tls-unique,,", SslProtocols.Tls13, true }, // undefined for TLS 1.3: the platform gives none
        { "p=x-future-binding,,", SslProtocols.Tls12, true },
        { "p=tls-server-end-point,,", SslProtocols.Tls13, false }, // an Ed25519 certificate: no hash, no binding (RFC 5929 §4.1)
    };

    [Theory]
    [MemberData(nameof(UnverifiableBindings))]
    public async Task Plus_with_a_binding_type_this_session_cannot_verify_ends_in_unsupported_channel_binding_type(
        string header, SslProtocols protocol, bool withServerEndPoint)
    {
        byte[]? serverEndPoint = withServerEndPoint ? [1, 2, 3] : null;
        var (exchange, provider) = Start(plus: true, secure: true, binding: serverEndPoint, protocol: protocol,
            unique: protocol == SslProtocols.Tls12 ? Unique : null);
        var client = new ScramTestClient("user", "pencil", gs2Header: header);

        // RFC 5802 §7 carries binding errors in the server-final message: the exchange runs to it.
        var first = await exchange.StepAsync(client.ClientFirst);
        first.Kind.Should().Be(SaslStepKind.Continue);
        ServerFirstShape.IsMatch(first.Text()).Should().BeTrue(first.Text());
        provider.Requested.Should().Equal("user");

        var final = await exchange.StepAsync(client.ClientFinal(first.Text(), [9, 9, 9]));

        final.Kind.Should().Be(SaslStepKind.FailureWithChallenge, "the right password does not help: the channel is not bound");
        final.Text().Should().Be("e=unsupported-channel-binding-type");
        final.Identity.Should().BeNull();
    }

    [Fact]
    public async Task Unsupported_binding_type_with_a_malformed_client_final_is_still_501()
    {
        var (exchange, _) = Start(plus: true, secure: true, binding: [1, 2, 3]);
        await exchange.StepAsync("p=tls-exporter,,n=user,r=abc");

        var final = await exchange.StepAsync("c=biws,r=abc");

        final.Kind.Should().Be(SaslStepKind.Failure);
        final.FailureReply.Should().Be(SaslReplies.Malformed);
    }

    [Fact]
    public async Task Non_plus_refuses_a_binding_request()
    {
        var (exchange, _) = Start(secure: true, binding: [1, 2, 3]);

        var result = await exchange.StepAsync("p=tls-server-end-point,,n=user,r=abc");

        result.Kind.Should().Be(SaslStepKind.Failure);
    }

    [Theory]
    [InlineData(false)] // TLS 1.2: -PLUS is offered with tls-unique
    [InlineData(true)] // TLS 1.3 with AdvertiseScramPlusOnTls13
    public async Task Y_flag_when_plus_is_offered_is_a_downgrade_and_ends_in_server_does_support_channel_binding(bool tls13)
    {
        var options = new SmtpAuthenticationOptions { AdvertiseScramPlusOnTls13 = tls13 };
        var (exchange, _) = Start(secure: true, binding: [1, 2, 3], options: options,
            protocol: tls13 ? SslProtocols.Tls13 : SslProtocols.Tls12, unique: tls13 ? null : Unique);
        var client = new ScramTestClient("user", "pencil", gs2Header: "y,,");

        var first = await exchange.StepAsync(client.ClientFirst);
        first.Kind.Should().Be(SaslStepKind.Continue);
        var final = await exchange.StepAsync(client.ClientFinal(first.Text()));

        final.Kind.Should().Be(SaslStepKind.FailureWithChallenge, "someone removed -PLUS from the list this client saw");
        final.Text().Should().Be("e=server-does-support-channel-binding");
    }

    public static TheoryData<string, bool, SslProtocols, bool> PlusNotOffered => new()
    {
        { "plaintext", false, SslProtocols.None, false },
        { "TLS 1.3 by default", true, SslProtocols.Tls13, false },
        { "TLS 1.2 where the platform gives no tls-unique", true, SslProtocols.Tls12, false },
        { "TLS 1.2 with -PLUS removed from the list", true, SslProtocols.Tls12, true },
    };

    [Theory]
    [MemberData(nameof(PlusNotOffered))]
    public async Task Y_flag_is_fine_when_plus_is_not_offered(string because, bool secure, SslProtocols protocol, bool removePlus)
    {
        var options = new SmtpAuthenticationOptions();
        if (removePlus)
        {
            options.Mechanisms.Remove(SaslMechanisms.ScramSha256Plus);
        }

        var (exchange, _) = Start(secure: secure, binding: [1, 2, 3], options: options, protocol: protocol,
            unique: removePlus ? Unique : null);
        var client = new ScramTestClient("user", "pencil", gs2Header: "y,,");

        var serverFirst = await exchange.StepAsync(client.ClientFirst);
        serverFirst.Kind.Should().Be(SaslStepKind.Continue);
        var final = await exchange.StepAsync(client.ClientFinal(serverFirst.Text()));

        final.Kind.Should().Be(SaslStepKind.Success, because);
    }

    [Fact]
    public async Task Binding_data_must_repeat_the_gs2_header()
    {
        var (exchange, _) = Start();
        var client = new ScramTestClient("user", "pencil", gs2Header: "n,a=user,");

        var serverFirst = (await exchange.StepAsync(client.ClientFirst)).Text();
        var final = await exchange.StepAsync(client.ClientFinal(serverFirst, headerInBinding: "n,,"));

        final.Kind.Should().Be(SaslStepKind.Failure);
    }

    [Fact]
    public void Availability_and_flags()
    {
        var none = new SmtpAuthenticationOptions();
        var configured = new SmtpAuthenticationOptions { ScramCredentialProvider = new TestScramProvider() };
        var plain = new ScramSha256Mechanism(false);
        var plus = new ScramSha256Mechanism(true);

        plain.Name.Should().Be("SCRAM-SHA-256");
        plus.Name.Should().Be("SCRAM-SHA-256-PLUS");
        plain.RequiresTls.Should().BeFalse();
        plus.RequiresTls.Should().BeTrue();
        plain.ExposesSecret.Should().BeFalse();
        plus.ExposesSecret.Should().BeFalse();
        plain.IsClientFirst.Should().BeTrue();

        plain.IsAvailable(SaslTestKit.CreateContext(none)).Should().BeFalse();
        plain.IsAvailable(SaslTestKit.CreateContext(configured)).Should().BeTrue();
        plain.IsAvailable(SaslTestKit.CreateContext(configured, secure: true, binding: [1])).Should().BeTrue();
        plus.IsAvailable(SaslTestKit.CreateContext(configured)).Should().BeFalse();
        plus.IsAvailable(SaslTestKit.CreateContext(none, secure: true, binding: [1], protocol: SslProtocols.Tls12, unique: [2])).Should().BeFalse();
    }

    [Theory]
    [InlineData(SslProtocols.Tls12, true, true, false, true)] // tls-unique: what a TLS 1.2 client sends
    [InlineData(SslProtocols.Tls12, false, true, false, false)] // no tls-unique from the platform
    [InlineData(SslProtocols.Tls12, false, true, true, false)] // the TLS 1.3 option does not apply to TLS 1.2
    [InlineData(SslProtocols.Tls12, true, false, false, true)] // an Ed25519 certificate: tls-unique still works
    [InlineData(SslProtocols.Tls13, false, true, false, false)] // clients send tls-exporter, which cannot be verified
    [InlineData(SslProtocols.Tls13, false, true, true, true)] // opted in, for clients that use tls-server-end-point
    [InlineData(SslProtocols.Tls13, false, false, true, false)] // opted in, but the certificate gives no binding
    public void Plus_is_offered_only_where_the_likely_binding_can_be_verified(
        SslProtocols protocol, bool unique, bool serverEndPoint, bool optIn, bool offered)
    {
        var options = new SmtpAuthenticationOptions { ScramCredentialProvider = new TestScramProvider(), AdvertiseScramPlusOnTls13 = optIn };
        var context = SaslTestKit.CreateContext(options, secure: true, binding: serverEndPoint ? [1] : null, protocol: protocol,
            unique: unique ? [2] : null);

        new ScramSha256Mechanism(true).IsAvailable(context).Should().Be(offered);
        new ScramSha256Mechanism(false).IsAvailable(context).Should().BeTrue("SCRAM-SHA-256 is always offered");
    }

    [Fact]
    public async Task Server_final_is_ascii_base64_of_32_bytes()
    {
        var (exchange, _) = Start(nonce: () => RfcServerNonce);
        await exchange.StepAsync(RfcClientFirst);
        var final = await exchange.StepAsync(RfcClientFinal);

        Convert.FromBase64String(Encoding.ASCII.GetString(final.Challenge!)[2..]).Should().HaveCount(32);
    }
}
