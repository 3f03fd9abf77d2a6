using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using StartTls.Smtp.AspNetCore.Tests.Infrastructure;
using StartTls.Smtp.Hosting;

namespace StartTls.Smtp.AspNetCore.Tests;

/// <summary>Stopping the web application drains the SMTP sessions on Kestrel: 421 4.3.2 to idle ones, in-flight messages finish.</summary>
public sealed class KestrelLifetimeTests
{
    [Fact]
    public async Task StopAsync_sends_421_to_an_idle_session_and_lets_a_message_in_flight_finish()
    {
        var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30)).UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp()));
        });
        var endPoint = app.KestrelEndPoints.Single();
        var store = app.Store;
        await using var idle = await RawSmtpClient.ConnectAsync(endPoint);
        (await idle.ReadReplyAsync()).Should().StartWith("220 ");
        (await idle.EhloAsync()).Should().StartWith("250");
        await using var busy = await RawSmtpClient.ConnectAsync(endPoint);
        (await busy.ReadReplyAsync()).Should().StartWith("220 ");
        (await busy.EhloAsync()).Should().StartWith("250");
        await busy.StartDataAsync();
        await busy.SendAsync("Subject: in flight\r\n\r\nfirst half\r\n");

        var stopped = app.App.StopAsync();

        (await idle.ReadReplyAsync()).Should().Be("421 4.3.2 Service shutting down, closing connection");
        (await idle.IsClosedAsync()).Should().BeTrue();
        stopped.IsCompleted.Should().BeFalse("a message is still being received");

        await busy.SendAsync("second half\r\n.\r\n");
        (await busy.ReadReplyAsync()).Should().StartWith("250 2.0.0");
        (await busy.ReadReplyAsync()).Should().StartWith("421 4.3.2");
        (await busy.IsClosedAsync()).Should().BeTrue();

        await stopped.WaitAsync(TimeSpan.FromSeconds(60)); // a hang guard, not a timing assertion
        store.Messages.Should().ContainSingle().Which.GetContentAsString().Should().EndWith("first half\r\nsecond half\r\n");
        await app.App.DisposeAsync();
    }

    [Fact]
    public async Task ApplicationStopping_alone_starts_the_drain()
    {
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer().UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp()));
        });
        await using var idle = await RawSmtpClient.ConnectAsync(app.KestrelEndPoints.Single());
        (await idle.ReadReplyAsync()).Should().StartWith("220 ");

        app.App.Lifetime.StopApplication(); // fires ApplicationStopping; the host's own stop has not begun

        (await idle.ReadReplyAsync()).Should().Be("421 4.3.2 Service shutting down, closing connection");
        (await idle.IsClosedAsync()).Should().BeTrue();
    }
}
