using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Authentication;
using StartTls.Smtp.Tests.Infrastructure;
using StartTls.Smtp.Tests.Samples;

namespace StartTls.Smtp.Tests.Hosting;

/// <summary>The per-endpoint policy: bound from configuration (lists included), and refused at start when it cannot be honoured.</summary>
public sealed class EndpointPolicyOptionsTests
{
    [Fact]
    public void Every_endpoint_policy_property_is_bound_from_configuration()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Smtp:Endpoints:0:Address"] = "127.0.0.1:25",
            ["Smtp:Endpoints:0:Name"] = "mx",
            ["Smtp:Endpoints:0:OfferAuthentication"] = "false",
            ["Smtp:Endpoints:0:MaxMessageSize"] = "52428800",
            ["Smtp:Endpoints:0:ProxyProtocolTrustedSources:0"] = "10.0.0.0/8",
            ["Smtp:Endpoints:0:ProxyProtocolTrustedSources:1"] = "192.0.2.1",
            ["Smtp:Endpoints:1:Address"] = "127.0.0.1:587",
            ["Smtp:Endpoints:1:RequireTls"] = "true",
            ["Smtp:Endpoints:1:RequireAuthentication"] = "true",
            ["Smtp:Endpoints:1:OfferStartTls"] = "true",
            ["Smtp:Endpoints:1:AuthenticationMechanisms:0"] = "PLAIN",
            ["Smtp:Endpoints:1:AuthenticationMechanisms:1"] = "SCRAM-SHA-256",
            ["Smtp:Endpoints:2:Address"] = "127.0.0.1:465",
            ["Smtp:Endpoints:2:ImplicitTls"] = "true",
            ["Smtp:Endpoints:2:OfferStartTls"] = "false",
        }).Build().GetSection("Smtp");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Development" });
        builder.Logging.ClearProviders();
        builder.Services.AddSmtpServer(configuration, o =>
        {
            // What code adds to a configured server: the certificate and the credential hook, which are not configuration.
            TlsTestKit.WithCertificate()(o);
            o.Authentication.PasswordAuthenticator = new InMemoryUserStore().AddUser("alice", "secret");
        }).UseNullStore();
        using var host = builder.Build();

        var endpoints = host.Services.GetRequiredService<IOptions<SmtpServerOptions>>().Value.Endpoints;

        endpoints.Should().HaveCount(3);
        endpoints[0].OfferAuthentication.Should().BeFalse();
        endpoints[0].MaxMessageSize.Should().Be(52428800);
        endpoints[0].ProxyProtocolTrustedSources.Should().Equal("10.0.0.0/8", "192.0.2.1");
        endpoints[0].RequireAuthentication.Should().BeNull("unset means inherit");
        endpoints[0].OfferStartTls.Should().BeNull();
        endpoints[1].RequireTls.Should().BeTrue();
        endpoints[1].RequireAuthentication.Should().BeTrue();
        endpoints[1].OfferStartTls.Should().BeTrue();
        endpoints[1].AuthenticationMechanisms.Should().Equal("PLAIN", "SCRAM-SHA-256");
        endpoints[1].MaxMessageSize.Should().BeNull();
        endpoints[2].ImplicitTls.Should().BeTrue();
        endpoints[2].OfferStartTls.Should().BeFalse();
    }

    public static TheoryData<string, string> Mistakes => new()
    {
        { "require-without-offer", "Endpoint 'e': RequireAuthentication needs OfferAuthentication" },
        { "inherited-require-without-offer", "Endpoint 'e': OfferAuthentication is false but Authentication.RequireAuthentication applies here" },
        { "require-without-hook", "Endpoint 'e': RequireAuthentication needs an authentication hook" },
        { "unknown-mechanism", "Endpoint 'e': AuthenticationMechanisms: 'NTLM' is not one of Authentication.Mechanisms." },
        { "zero-size", "Endpoint 'e': MaxMessageSize must be positive." },
        { "negative-size", "Endpoint 'e': MaxMessageSize must be positive." },
        { "bad-cidr", "Endpoint 'e': ProxyProtocolTrustedSources: '10.0.0.0/33' is not an IP address or CIDR block" },
        { "require-tls-without-starttls", "Endpoint 'e': RequireTls needs STARTTLS; OfferStartTls must not be false." },
        { "implicit-with-starttls", "Endpoint 'e': OfferStartTls does not apply to an implicit-TLS endpoint." },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void A_policy_the_server_cannot_honour_is_refused_at_start(string mistake, string message)
    {
        var options = new SmtpServerOptions { ServerName = "mx.test" };
        TlsTestKit.WithCertificate()(options);
        var endpoint = new SmtpEndpointOptions { Address = "127.0.0.1:0", Name = "e" };
        options.Endpoints.Add(endpoint);
        if (mistake != "require-without-hook")
        {
            options.Authentication.PasswordAuthenticator = new InMemoryUserStore().AddUser("alice", "secret");
        }

        switch (mistake)
        {
            case "require-without-offer":
                endpoint.RequireAuthentication = true;
                endpoint.OfferAuthentication = false;
                break;
            case "inherited-require-without-offer":
                options.Authentication.RequireAuthentication = true;
                endpoint.OfferAuthentication = false;
                break;
            case "require-without-hook":
                endpoint.RequireAuthentication = true;
                break;
            case "unknown-mechanism":
                endpoint.AuthenticationMechanisms.Add("PLAIN");
                endpoint.AuthenticationMechanisms.Add("NTLM");
                break;
            case "zero-size":
                endpoint.MaxMessageSize = 0;
                break;
            case "negative-size":
                endpoint.MaxMessageSize = -1;
                break;
            case "bad-cidr":
                endpoint.ProxyProtocolTrustedSources.Add("10.0.0.0/33");
                break;
            case "require-tls-without-starttls":
                endpoint.RequireTls = true;
                endpoint.OfferStartTls = false;
                break;
            default:
                endpoint.ImplicitTls = true;
                endpoint.OfferStartTls = true;
                break;
        }

        var create = () => new SmtpServer(options, NullMessageStore.Instance);

        create.Should().Throw<OptionsValidationException>().Which.Failures.Should().ContainSingle().Which.Should().StartWith(message);
    }

    [Fact]
    public void A_sound_policy_passes_and_mechanism_names_match_without_case()
    {
        var options = new SmtpServerOptions { ServerName = "mx.test" };
        TlsTestKit.WithCertificate()(options);
        options.Authentication.PasswordAuthenticator = new InMemoryUserStore().AddUser("alice", "secret");
        var endpoint = new SmtpEndpointOptions { Address = "127.0.0.1:0", RequireTls = true, RequireAuthentication = true, OfferStartTls = true, MaxMessageSize = 1 };
        endpoint.AuthenticationMechanisms.Add("plain");
        endpoint.ProxyProtocolTrustedSources.Add("2001:db8::/32");
        options.Endpoints.Add(endpoint);

        var mx = new SmtpEndpointOptions { Address = "127.0.0.1:0", OfferAuthentication = false, RequireAuthentication = false };
        options.Endpoints.Add(mx);
        options.Authentication.RequireAuthentication = true;

        SmtpServerOptionsValidator.Instance.Validate(null, options).Succeeded.Should().BeTrue();
    }

    [Fact]
    public async Task The_READMEs_mx_and_submission_configuration_binds_and_behaves_as_described()
    {
        var readme = File.ReadAllText(Path.Combine(ReadmeSnippets.RepositoryRoot().FullName, "README.md"));
        var json = ReadmeSnippets.CodeBlocks(readme, "json").Single(b => b.Contains("\"OfferAuthentication\"", StringComparison.Ordinal));
        var configuration = new ConfigurationBuilder().AddJsonStream(new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json))).Build().GetSection("Smtp");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Development" });
        builder.Logging.ClearProviders();
        var users = AuthTestKit.NewUsers();
        builder.Services.AddSmtpServer(configuration, o =>
        {
            // The test's own addresses, certificate and users; everything else is the README's.
            foreach (var endpoint in o.Endpoints)
            {
                endpoint.Address = "127.0.0.1:0";
            }

            o.ServerName = "mx.test";
            o.Tls.CertificatePath = null;
            o.Tls.KeyPath = null;
            TlsTestKit.WithCertificate()(o);
            o.Authentication.PasswordAuthenticator = users;
            o.Authentication.ScramCredentialProvider = users;
        }).UseNullStore();
        using var host = builder.Build();
        var options = host.Services.GetRequiredService<IOptions<SmtpServerOptions>>().Value;
        options.Endpoints.Select(e => e.Name).Should().Equal("mx", "submission", "submissions");

        await using var server = new SmtpServer(options, new InMemoryMessageStore());
        await server.StartAsync();
        var ports = server.ListeningEndPoints;

        await using (var mx = await RawSmtpClient.ConnectAsync(ports[0]))
        {
            await mx.ReadReplyAsync();
            (await mx.EhloAsync()).Should().Contain("250-STARTTLS").And.Contain("250-SIZE 52428800\r\n").And.NotContain("AUTH");
            (await mx.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("250");
        }

        await using (var submission = await RawSmtpClient.ConnectAsync(ports[1]))
        {
            await submission.ReadReplyAsync();
            (await submission.EhloAsync()).Should().Contain("250-SIZE 26214400\r\n").And.NotContain("AUTH");
            (await submission.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("530 5.7.0 Must issue a STARTTLS command first");
            (await submission.CommandAsync("STARTTLS")).Should().StartWith("220");
            await using var tls = await TlsSmtpClient.HandshakeAsync(submission.Socket, "mx.test");
            var ehlo = await tls.EhloAsync();
            AuthTestKit.AuthLine(ehlo).Should().Equal(["SCRAM-SHA-256", "PLAIN"], "SCRAM-SHA-256-PLUS is not offered on TLS 1.3 by default; LOGIN is not listed");
            (await tls.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("530 5.7.0 Authentication required");
        }

        var raw = await RawSmtpClient.ConnectAsync(ports[2]);
        await using (raw)
        await using (var submissions = await TlsSmtpClient.HandshakeAsync(raw.Socket, "mx.test"))
        {
            (await submissions.ReadReplyAsync()).Should().StartWith("220");
            AuthTestKit.AuthLine(await submissions.EhloAsync()).Should().Contain("PLAIN").And.Contain("LOGIN");
            (await submissions.CommandAsync("MAIL FROM:<a@c.test>")).Should().Be("530 5.7.0 Authentication required");
        }

        await server.StopAsync();
    }

    [Fact]
    public void Clone_copies_every_setting_and_the_lists_are_its_own()
    {
        var original = new SmtpEndpointOptions
        {
            Address = "127.0.0.1:587",
            Name = "submission",
            RequireTls = true,
            Protocol = SmtpEndpointProtocol.Smtp,
            OfferStartTls = true,
            OfferAuthentication = true,
            RequireAuthentication = true,
            MaxMessageSize = 1024,
        };
        original.AuthenticationMechanisms.Add("PLAIN");
        original.ProxyProtocolTrustedSources.Add("10.0.0.0/8");

        var copy = original.Clone();
        original.AuthenticationMechanisms.Add("LOGIN");
        original.ProxyProtocolTrustedSources.Clear();

        copy.Should().BeEquivalentTo(new { original.Address, original.Name, original.RequireTls, original.OfferStartTls, original.OfferAuthentication, original.RequireAuthentication, original.MaxMessageSize });
        copy.AuthenticationMechanisms.Should().Equal("PLAIN");
        copy.ProxyProtocolTrustedSources.Should().Equal("10.0.0.0/8");
    }

    [Fact]
    public async Task ValidateEndpoint_checks_a_transports_own_endpoint_as_the_server_checks_its_own()
    {
        await using var server = new SmtpServer(new SmtpServerOptions { ListenOnOwnSockets = false }, new StartTls.Smtp.Storage.InMemoryMessageStore());

        server.ValidateEndpoint(new SmtpEndpointOptions { Address = "127.0.0.1:2525", OfferAuthentication = false });
        var lmtp25 = () => server.ValidateEndpoint(new SmtpEndpointOptions { Address = "127.0.0.1:25", Protocol = SmtpEndpointProtocol.Lmtp });
        lmtp25.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().Which.Failures.Should().ContainSingle()
            .Which.Should().Contain("RFC 2033");
        var mechanism = () => server.ValidateEndpoint(new SmtpEndpointOptions { Address = "127.0.0.1:587", AuthenticationMechanisms = { "NTLM" } });
        mechanism.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>().Which.Failures.Should().ContainSingle()
            .Which.Should().Contain("'NTLM' is not one of Authentication.Mechanisms");
    }
}
