using System.Net.Sockets;
using MailKit.Net.Smtp;
using MailKit.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MimeKit;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Integration;

/// <summary>The server inside a generic host: registered with AddSmtpServer, started and stopped with the host.</summary>
public sealed class HostingIntegrationTests
{
    private static HostApplicationBuilder CreateBuilder()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
            EnvironmentName = "Testing",
        });
        builder.Logging.ClearProviders();
        return builder;
    }

    [Fact(Timeout = 30_000)]
    public async Task Host_starts_the_server_delivers_a_message_and_stops_it()
    {
        var store = new InMemoryMessageStore();
        var builder = CreateBuilder();
        builder.Services
            .AddSmtpServer(o =>
            {
                o.ServerName = "mx.hosted.test";
                o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" });
            })
            .UseMessageStore(store);

        using var host = builder.Build();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await host.StartAsync(cts.Token);
        var stopped = false;
        try
        {
            var server = host.Services.GetRequiredService<SmtpServer>();
            var endPoint = server.ListeningEndPoints.Should().ContainSingle().Subject;
            endPoint.Port.Should().BeGreaterThan(0);

            using (var client = new SmtpClient { Timeout = 10_000, LocalDomain = "client.test" })
            {
                await client.ConnectAsync("127.0.0.1", endPoint.Port, SecureSocketOptions.None, cts.Token);
                var message = new MimeMessage();
                message.From.Add(MailboxAddress.Parse("a@c.test"));
                message.To.Add(MailboxAddress.Parse("b@s.test"));
                message.Subject = "hosted";
                message.Body = new TextPart("plain") { Text = "Delivered through the generic host.\r\n" };
                await client.SendAsync(message, cts.Token);
                await client.DisconnectAsync(true, cts.Token);
            }

            var stored = store.Messages.Should().ContainSingle().Subject;
            stored.Envelope.From!.Address.Should().Be("a@c.test");
            MailKitHarness.Parse(stored).Subject.Should().Be("hosted");

            await host.StopAsync(cts.Token);
            stopped = true;

            // Stopped means the listener is gone.
            using var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            var connect = async () => await probe.ConnectAsync(endPoint, cts.Token);
            await connect.Should().ThrowAsync<SocketException>();
        }
        finally
        {
            if (!stopped)
            {
                await host.StopAsync(CancellationToken.None);
            }
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Host_greets_with_the_configured_server_name()
    {
        var builder = CreateBuilder();
        builder.Services
            .AddSmtpServer(o =>
            {
                o.ServerName = "mx.hosted.test";
                o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" });
            })
            .UseMessageStore(NullMessageStore.Instance);

        using var host = builder.Build();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await host.StartAsync(cts.Token);
        try
        {
            var server = host.Services.GetRequiredService<SmtpServer>();
            await using var client = await RawSmtpClient.ConnectAsync(server.ListeningEndPoints[0]);
            (await client.ReadReplyAsync()).Should().Be("220 mx.hosted.test ESMTP ready");
            (await client.CommandAsync("QUIT")).Should().StartWith("221 2.0.0");
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Invalid_options_make_host_start_fail_with_OptionsValidationException()
    {
        var builder = CreateBuilder();
        builder.Services
            .AddSmtpServer(o =>
            {
                o.MaxCommandLineLength = 10;
                o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" });
            })
            .UseMessageStore(new InMemoryMessageStore());

        using var host = builder.Build();
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var start = () => host.StartAsync(cts.Token);

        var thrown = await start.Should().ThrowAsync<OptionsValidationException>();
        thrown.Which.Failures.Should().Contain(f => f.Contains("MaxCommandLineLength", StringComparison.Ordinal));
        thrown.Which.OptionsType.Should().Be<SmtpServerOptions>();
    }

    [Fact(Timeout = 30_000)]
    public async Task Several_invalid_options_are_all_named()
    {
        var builder = CreateBuilder();
        builder.Services
            .AddSmtpServer(o =>
            {
                o.MaxCommandLineLength = 10;
                o.MaxRecipients = 0;
                o.Endpoints.Add(new SmtpEndpointOptions { Address = "not an address" });
            })
            .UseMessageStore(new InMemoryMessageStore());

        using var host = builder.Build();
        var start = () => host.StartAsync(CancellationToken.None);

        var thrown = await start.Should().ThrowAsync<OptionsValidationException>();
        thrown.Which.Failures.Should().Contain(f => f.Contains("MaxCommandLineLength", StringComparison.Ordinal))
            .And.Contain(f => f.Contains("MaxRecipients", StringComparison.Ordinal))
            .And.Contain(f => f.StartsWith("Endpoints", StringComparison.Ordinal));
    }
}
