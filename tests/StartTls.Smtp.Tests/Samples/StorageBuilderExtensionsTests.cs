using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.Storage;

namespace StartTls.Smtp.Tests.Samples;

/// <summary>UseMaildirStore / UseInMemoryStore / UseNullStore, as the sample server uses them.</summary>
public sealed class StorageBuilderExtensionsTests
{
    [Fact]
    public void UseMaildirStore_creates_the_maildir_from_the_configured_options()
    {
        var root = Directory.CreateTempSubdirectory("starttls-builder-");
        try
        {
            var services = new ServiceCollection().AddLogging();
            services.AddSmtpServer(o => o.ServerName = "mx.test").UseMaildirStore(o => o.Path = Path.Combine(root.FullName, "mail"));
            using var provider = services.BuildServiceProvider();

            var store = provider.GetRequiredService<IMessageStore>();

            store.Should().BeOfType<MaildirMessageStore>();
            Directory.Exists(Path.Combine(root.FullName, "mail", "new")).Should().BeTrue();
            Directory.Exists(Path.Combine(root.FullName, "mail", "tmp")).Should().BeTrue();
            Directory.Exists(Path.Combine(root.FullName, "mail", "cur")).Should().BeTrue();
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void UseMaildirStore_passes_the_tmp_cleanup_options_on()
    {
        var root = Directory.CreateTempSubdirectory("starttls-builder-");
        try
        {
            var tmp = Directory.CreateDirectory(Path.Combine(root.FullName, "mail", "tmp")).FullName;
            var stale = Path.Combine(tmp, "1.M1P1Q1.crashed");
            File.WriteAllText(stale, "partial");
            File.SetLastWriteTimeUtc(stale, DateTime.UtcNow - TimeSpan.FromHours(4));
            var recent = Path.Combine(tmp, "2.M2P2Q2.recent");
            File.WriteAllText(recent, "partial");
            File.SetLastWriteTimeUtc(recent, DateTime.UtcNow - TimeSpan.FromHours(2));

            var services = new ServiceCollection();
            services.AddSmtpServer().UseMaildirStore(o =>
            {
                o.Path = Path.Combine(root.FullName, "mail");
                o.TmpMaxAge = TimeSpan.FromHours(3);
                o.TmpCleanupInterval = TimeSpan.FromMinutes(5);
            });
            using (var provider = services.BuildServiceProvider())
            {
                provider.GetRequiredService<IMessageStore>().Should().BeOfType<MaildirMessageStore>().Which.TmpFilesRemoved.Should().Be(1);
            }

            File.Exists(stale).Should().BeFalse("it is older than the configured 3 hours");
            File.Exists(recent).Should().BeTrue();

            var invalid = new ServiceCollection();
            invalid.AddSmtpServer().UseMaildirStore(o =>
            {
                o.Path = Path.Combine(root.FullName, "mail");
                o.TmpCleanupInterval = TimeSpan.FromDays(2);
            });
            using var invalidProvider = invalid.BuildServiceProvider();
            invalidProvider.Invoking(p => p.GetRequiredService<IMessageStore>()).Should().Throw<ArgumentOutOfRangeException>()
                .Which.ParamName.Should().Be("options.TmpCleanupInterval");
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task UseMaildirStore_stores_through_the_hosted_server_with_the_server_name_in_Received()
    {
        var root = Directory.CreateTempSubdirectory("starttls-builder-");
        try
        {
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Logging.ClearProviders();
            builder.Services.AddSmtpServer(o =>
            {
                o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" });
                o.ServerName = "mx.builder.test";
            }).UseMaildirStore(o => o.Path = root.FullName);
            using var host = builder.Build();
            await host.StartAsync();
            var server = host.Services.GetRequiredService<SmtpServer>();

            await using (var client = await Infrastructure.RawSmtpClient.ConnectAsync(server.ListeningEndPoints[0]))
            {
                (await client.ReadReplyAsync()).Should().Be("220 mx.builder.test ESMTP ready");
                await client.EhloAsync();
                await client.CommandAsync("MAIL FROM:<a@example.org>");
                await client.CommandAsync("RCPT TO:<b@example.net>");
                await client.CommandAsync("DATA");
                (await client.CommandAsync("Subject: x\r\n\r\nbody\r\n.")).Should().StartWith("250 2.0.0 OK queued as ");
            }

            await host.StopAsync();
            var file = Directory.GetFiles(Path.Combine(root.FullName, "new")).Should().ContainSingle().Subject;
            (await File.ReadAllTextAsync(file)).Should().Contain("by mx.builder.test with ESMTP");
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void UseInMemoryStore_registers_one_inspectable_store()
    {
        var services = new ServiceCollection();
        services.AddSmtpServer().UseInMemoryStore();
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IMessageStore>().Should().BeSameAs(provider.GetRequiredService<InMemoryMessageStore>());
    }

    [Fact]
    public void UseNullStore_registers_the_null_store()
    {
        var services = new ServiceCollection();
        services.AddSmtpServer().UseNullStore();
        using var provider = services.BuildServiceProvider();

        provider.GetRequiredService<IMessageStore>().Should().BeSameAs(NullMessageStore.Instance);
    }

    [Fact]
    public void The_last_store_chosen_wins()
    {
        var services = new ServiceCollection();
        services.AddSmtpServer().UseInMemoryStore().UseNullStore();
        using var provider = services.BuildServiceProvider();

        provider.GetServices<IMessageStore>().Should().ContainSingle().Which.Should().BeSameAs(NullMessageStore.Instance);
    }
}
