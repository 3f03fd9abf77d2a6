using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Tests.Hosting;

/// <summary>AddSmtpServer(IConfiguration[, configure]): binding, the configuration-then-code rule, and one startup error.</summary>
public sealed class ConfigurationBindingTests
{
    private static IConfiguration Section(params (string Key, string Value)[] values)
        => new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>("Smtp:" + v.Key, v.Value)))
            .Build()
            .GetSection("Smtp");

    private static IHost Build(Action<IServiceCollection> register)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], ContentRootPath = AppContext.BaseDirectory, EnvironmentName = "Development" });
        builder.Logging.ClearProviders();
        register(builder.Services);
        return builder.Build();
    }

    [Fact]
    public void Every_kind_of_option_is_bound_from_the_section()
    {
        var configuration = Section(
            ("ServerName", "mx.configured.test"),
            ("MaxRecipients", "7"),
            ("CommandTimeout", "00:02:00"),
            ("BareLineEndings", "Normalize"),
            ("EnablePipelining", "false"),
            ("Endpoints:0:Address", "127.0.0.1:2525"),
            ("Endpoints:0:Name", "submission"),
            ("Endpoints:1:Address", "127.0.0.1:4650"),
            ("Authentication:RequireAuthentication", "true"));
        using var host = Build(s => s.AddSmtpServer(configuration).UseNullStore());

        var options = host.Services.GetRequiredService<IOptions<SmtpServerOptions>>().Value;

        options.ServerName.Should().Be("mx.configured.test");
        options.MaxRecipients.Should().Be(7);
        options.CommandTimeout.Should().Be(TimeSpan.FromMinutes(2));
        options.BareLineEndings.Should().Be(BareLineEndingHandling.Normalize);
        options.EnablePipelining.Should().BeFalse();
        options.Authentication.RequireAuthentication.Should().BeTrue();
        options.Endpoints.Select(e => (e.Address, e.Name)).Should().Equal(
            ("127.0.0.1:2525", "submission"),
            ("127.0.0.1:4650", (string?)null));
    }

    [Fact]
    public void Code_runs_after_the_configuration_and_its_endpoints_are_added_after_the_configured_ones()
    {
        var configuration = Section(("ServerName", "mx.configured.test"), ("MaxRecipients", "7"), ("Endpoints:0:Address", "127.0.0.1:2525"));
        using var host = Build(s => s.AddSmtpServer(configuration, o =>
        {
            // Code sees the bound value, and has the last word.
            o.MaxRecipients.Should().Be(7);
            o.MaxRecipients = 9;
            o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:5870" });
        }).UseNullStore());

        var options = host.Services.GetRequiredService<IOptions<SmtpServerOptions>>().Value;

        options.ServerName.Should().Be("mx.configured.test");
        options.MaxRecipients.Should().Be(9);
        options.Endpoints.Select(e => e.Address).Should().Equal("127.0.0.1:2525", "127.0.0.1:5870");
    }

    [Fact]
    public void Code_that_clears_the_endpoints_replaces_the_configured_ones()
    {
        var configuration = Section(("Endpoints:0:Address", "127.0.0.1:2525"), ("Endpoints:1:Address", "127.0.0.1:4650"));
        using var host = Build(s => s.AddSmtpServer(configuration, o =>
        {
            o.Endpoints.Clear();
            o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0", Name = "from-code" });
        }).UseNullStore());

        var options = host.Services.GetRequiredService<IOptions<SmtpServerOptions>>().Value;

        options.Endpoints.Should().ContainSingle().Which.Name.Should().Be("from-code");
    }

    [Fact(Timeout = 30_000)]
    public async Task A_configured_server_starts_and_listens_on_the_configured_endpoint()
    {
        var configuration = Section(("ServerName", "mx.configured.test"), ("Endpoints:0:Address", "127.0.0.1:0"));
        using var host = Build(s => s.AddSmtpServer(configuration).UseNullStore());
        await host.StartAsync();
        try
        {
            var server = host.Services.GetRequiredService<SmtpServer>();
            await using var client = await Infrastructure.RawSmtpClient.ConnectAsync(server.ListeningEndPoints.Should().ContainSingle().Subject);
            (await client.ReadReplyAsync()).Should().Be("220 mx.configured.test ESMTP ready");
        }
        finally
        {
            await host.StopAsync();
        }
    }

    [Fact(Timeout = 30_000)]
    public async Task Every_invalid_value_from_configuration_and_code_is_listed_in_one_startup_error()
    {
        var configuration = Section(
            ("MaxCommandLineLength", "10"),
            ("MaxRecipients", "0"),
            ("Endpoints:0:Address", "not an address"));
        using var host = Build(s => s.AddSmtpServer(configuration, o => o.MaxConnections = 0).UseMessageStore(new InMemoryMessageStore()));

        var start = () => host.StartAsync();

        var thrown = (await start.Should().ThrowAsync<OptionsValidationException>()).Which;
        thrown.OptionsType.Should().Be<SmtpServerOptions>();
        thrown.Failures.Should().HaveCount(4);
        foreach (var name in new[] { "MaxCommandLineLength", "MaxRecipients", "MaxConnections", "Endpoints" })
        {
            thrown.Message.Should().Contain(name, "the one message names every failure");
        }
    }
}
