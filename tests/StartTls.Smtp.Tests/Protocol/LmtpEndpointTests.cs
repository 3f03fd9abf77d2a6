using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>The LMTP endpoint setting: bound from configuration, validated (never port 25), and split-proof on the wire.</summary>
public sealed class LmtpEndpointTests
{
    private const string Transcript = "LHLO m.test\r\nMAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nRCPT TO:<c@s.test>\r\nBDAT 5 LAST\r\nhelloQUIT\r\n";

    [Fact]
    public void The_protocol_is_bound_from_configuration_and_defaults_to_smtp()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Smtp:Endpoints:0:Address"] = "127.0.0.1:2525",
                ["Smtp:Endpoints:1:Address"] = "127.0.0.1:2424",
                ["Smtp:Endpoints:1:Protocol"] = "Lmtp",
            })
            .Build()
            .GetSection("Smtp");
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Development" });
        builder.Logging.ClearProviders();
        builder.Services.AddSmtpServer(configuration).UseNullStore();
        using var host = builder.Build();

        var options = host.Services.GetRequiredService<IOptions<SmtpServerOptions>>().Value;

        options.Endpoints.Select(e => e.Protocol).Should().Equal(SmtpEndpointProtocol.Smtp, SmtpEndpointProtocol.Lmtp);
    }

    [Theory]
    [InlineData("127.0.0.1:25")]
    [InlineData("[::1]:25")]
    [InlineData("*:25")]
    public void An_lmtp_endpoint_on_port_25_is_refused(string address)
    {
        var options = new SmtpServerOptions { ServerName = "mx.test" };
        options.Endpoints.Add(new SmtpEndpointOptions { Address = address, Protocol = SmtpEndpointProtocol.Lmtp });

        var create = () => new SmtpServer(options, NullMessageStore.Instance);

        create.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("RFC 2033");
    }

    [Fact]
    public void An_smtp_endpoint_on_port_25_and_an_lmtp_endpoint_elsewhere_are_accepted()
    {
        var options = new SmtpServerOptions { ServerName = "mx.test" };
        options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:25" });
        options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:24", Protocol = SmtpEndpointProtocol.Lmtp });

        SmtpServerOptionsValidator.Instance.Validate(null, options).FailureMessage.Should().BeNull();
    }

    [Fact]
    public void An_undefined_protocol_is_refused()
    {
        var options = new SmtpServerOptions { ServerName = "mx.test" };
        options.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0", Protocol = (SmtpEndpointProtocol)7 });

        SmtpServerOptionsValidator.Instance.Validate(null, options).FailureMessage.Should().Contain("unknown Protocol");
    }

    [Fact]
    public async Task An_lmtp_transcript_split_at_any_byte_gets_the_answer_it_gets_in_one_piece()
    {
        var store = LmtpTestStore.ByAddress(new Dictionary<string, SmtpReply> { ["c@s.test"] = SmtpReply.MailboxUnavailable });
        await using var server = await TestServer.StartAsync(store: store);
        var bytes = Encoding.Latin1.GetBytes(Transcript);

        var whole = await RunAsync(server, [bytes]);

        whole.Should().EndWith("250 2.0.0 Message accepted\r\n550 5.1.1 Mailbox unavailable\r\n221 2.0.0 Bye\r\n");
        for (var split = 1; split < bytes.Length; split++)
        {
            var answer = await RunAsync(server, [bytes[..split], bytes[split..]]);
            answer.Should().Be(whole, "split after byte {0}", split);
        }

        var byteByByte = await RunAsync(server, [.. bytes.Select(b => new[] { b })]);
        byteByByte.Should().Be(whole);
        store.Contents.Should().HaveCount(bytes.Length + 1).And.OnlyContain(c => c == "hello");
    }

    private static async Task<string> RunAsync(TestServer server, byte[][] pieces)
    {
        await using var connection = PipeConnection.Start(server.Server, new SmtpEndpointOptions { Protocol = SmtpEndpointProtocol.Lmtp });
        foreach (var piece in pieces)
        {
            await connection.SendPieceOrEndAsync(piece);
        }

        await connection.CompleteInputAsync();
        return await connection.ReadToEndAsync();
    }
}
