using System.Text;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Authentication;

/// <summary>The RFC 4616 §4 PLAIN examples, and docs/threat-model.md T18 on a submission endpoint.</summary>
public sealed class Rfc4616AndT18Tests
{
    /// <summary>The RFC's example directory: tim/tanstaaftanstaaf, Kurt/xipj3plmq, and Kurt may act as Ursel.</summary>
    private sealed class Rfc4616Directory : IPasswordAuthenticator
    {
        public ValueTask<string?> AuthenticateAsync(SmtpSession session, string userName, string password, string? authorizationIdentity, CancellationToken cancellationToken)
        {
            var valid = (userName, password) is ("tim", "tanstaaftanstaaf") or ("Kurt", "xipj3plmq");
            var identity = authorizationIdentity ?? userName;
            var authorized = identity == userName || (userName, identity) is ("Kurt", "Ursel");
            return ValueTask.FromResult(valid && authorized ? identity : null);
        }
    }

    public static TheoryData<string, string?> Examples => new()
    {
        // RFC 4616 §4: "\0tim\0tanstaaftanstaaf" authenticates tim; "Ursel\0Kurt\0xipj3plmq" is Kurt acting as Ursel.
        { "\0tim\0tanstaaftanstaaf", "tim" },
        { "Ursel\0Kurt\0xipj3plmq", "Ursel" },
        { "\0tim\0wrong", null },
        { "Ursel\0tim\0tanstaaftanstaaf", null }, // tim may not act as Ursel
    };

    [Theory]
    [MemberData(nameof(Examples))]
    public async Task Rfc4616_examples_through_the_plain_mechanism(string message, string? expectedIdentity)
    {
        var options = new SmtpAuthenticationOptions { PasswordAuthenticator = new Rfc4616Directory() };
        var exchange = SaslMechanisms.Plain.CreateExchange(SaslTestKit.CreateContext(options, secure: true));
        var result = await exchange.StepAsync(Encoding.UTF8.GetBytes(message), CancellationToken.None);
        if (expectedIdentity is null)
        {
            result.Kind.Should().Be(SaslStepKind.Failure);
            result.FailureReply.Should().BeNull("a wrong password gets the plain 535 5.7.8");
        }
        else
        {
            result.Kind.Should().Be(SaslStepKind.Success);
            result.Identity.Should().Be(expectedIdentity);
        }
    }

    [Fact]
    public async Task Rfc4616_example_over_the_wire_inside_tls()
    {
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(o => o.Authentication.PasswordAuthenticator = new Rfc4616Directory()));
        var (raw, tls) = await server.ConnectWithStartTlsAsync();
        await using (raw)
        await using (tls)
        {
            await tls.EhloAsync();
            (await tls.CommandAsync("AUTH PLAIN " + Convert.ToBase64String(Encoding.UTF8.GetBytes("Ursel\0Kurt\0xipj3plmq")))).Should().StartWith("235 2.7.0");
        }
    }

    [Fact]
    public async Task T18_submission_endpoint_lists_starttls_but_no_auth_before_tls_and_auth_after()
    {
        var users = new InMemoryUserStore().AddUser("alice", "secret");
        await using var server = await TestServer.StartAsync(TlsTestKit.WithCertificate(o =>
        {
            o.Endpoints[0].RequireTls = true;
            o.Authentication.PasswordAuthenticator = users;
        }));
        await using var plain = await server.ConnectAsync();
        var before = await plain.EhloAsync();
        before.Should().Contain("250-STARTTLS").And.NotContain("AUTH");
        (await plain.CommandAsync("AUTH PLAIN AHVzZXIAcGFzcw==")).Should().Be("530 5.7.0 Must issue a STARTTLS command first");

        var (raw, tls) = await server.ConnectWithStartTlsAsync();
        await using (raw)
        await using (tls)
        {
            var after = await tls.EhloAsync();
            after.Should().Contain("AUTH PLAIN LOGIN").And.NotContain("STARTTLS");
        }
    }
}
