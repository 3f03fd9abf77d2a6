using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using StartTls.Smtp.AspNetCore.Tests.Infrastructure;
using StartTls.Smtp.Hosting;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tls;

namespace StartTls.Smtp.AspNetCore.Tests;

/// <summary>SMTP on Kestrel endpoints: the code and configuration forms, Kestrel-only mode, the endpoint policy and TLS.</summary>
public sealed class KestrelEndpointTests
{
    private const string Message = "Subject: t\r\n\r\nbody\r\n.\r\n";

    [Fact]
    public async Task Code_form_ListenLocalhost_serves_smtp()
    {
        var port = KestrelSmtpApp.FreePort();
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer(o => o.ServerName = "mx.test").UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.ListenLocalhost(port, l => l.UseSmtp()));
        });

        await SendOneMessageAsync(new IPEndPoint(IPAddress.Loopback, port));

        app.Store.Messages.Should().ContainSingle().Which.Envelope.From!.ToString().Should().Be("a@c.test");
    }

    [Fact]
    public async Task Configuration_form_serves_smtp_on_the_named_endpoint()
    {
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Kestrel:Endpoints:Smtp:Url"] = "http://127.0.0.1:0" });
            b.Services.AddSmtpServer(o => o.ServerName = "mx.test").UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel((context, k) => k.Configure(context.Configuration.GetSection("Kestrel"))
                .Endpoint("Smtp", e => e.ListenOptions.UseSmtp(o => o.Name = "mx")));
        });

        var endPoint = app.KestrelEndPoints.Should().ContainSingle().Subject;
        endPoint.Port.Should().NotBe(0);
        await SendOneMessageAsync(endPoint);

        app.Store.Messages.Should().ContainSingle();
    }

    [SkippableFact]
    public async Task Kestrel_only_mode_opens_no_socket_of_the_server_own()
    {
        Skip.IfNot(ProcessSockets.Supported, "reads this process's sockets from /proc");
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer().UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp()));
        });

        var kestrelPort = app.KestrelEndPoints.Single().Port;
        var listening = ProcessSockets.ListeningPorts();

        listening.Should().Contain(kestrelPort, "the probe sees this process's Kestrel socket");
        listening.Should().NotContain(2525, "the server's own default endpoint is 127.0.0.1:2525");
        app.Server.ListeningEndPoints.Should().BeEmpty();
        app.Server.GetEndpointStates().Should().BeEmpty();
        await SendOneMessageAsync(new IPEndPoint(IPAddress.Loopback, kestrelPort));
    }

    [SkippableFact]
    public async Task Without_kestrel_only_the_server_listens_on_its_own_endpoints_too()
    {
        Skip.IfNot(ProcessSockets.Supported, "reads this process's sockets from /proc");
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer(o => o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" })).UseInMemoryStore();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp()));
        });

        var own = app.Server.ListeningEndPoints.Should().ContainSingle().Subject;
        ProcessSockets.ListeningPorts().Should().Contain([own.Port, app.KestrelEndPoints.Single().Port]);
        await SendOneMessageAsync(own);
        await SendOneMessageAsync(app.KestrelEndPoints.Single());
        app.Store.Messages.Should().HaveCount(2);
    }

    [Fact]
    public async Task Kestrel_only_mode_with_configured_endpoints_fails_at_start()
    {
        var start = () => KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer(o => o.Endpoints.Add(new SmtpEndpointOptions { Address = "127.0.0.1:0" })).UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp()));
        });

        (await start.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>())
            .Which.Message.Should().Contain("ListenOnOwnSockets");
    }

    [Fact]
    public async Task RequireTls_endpoint_refuses_mail_before_STARTTLS_and_STARTTLS_uses_the_server_certificate()
    {
        using var certificate = TestCertificates.IssueServer("mx.test");
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer(o => o.Tls.CertificateSelector = new SniCertificateSelector(new FixedCertificate(certificate)))
                .UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp(o => o.RequireTls = true)));
        });

        await using var client = await RawSmtpClient.ConnectAsync(app.KestrelEndPoints.Single());
        (await client.ReadReplyAsync()).Should().StartWith("220 ");
        (await client.EhloAsync()).Should().Contain("STARTTLS");
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("530 5.7.0");
        (await client.CommandAsync("STARTTLS")).Should().StartWith("220 2.0.0");
        await using var tls = await TlsSmtpClient.HandshakeAsync(client.Socket, "mx.test");
        await tls.SendAsync("EHLO client.test\r\n");
        (await tls.ReadReplyAsync()).Should().StartWith("250");
        await tls.SendAsync("MAIL FROM:<a@c.test>\r\n");
        (await tls.ReadReplyAsync()).Should().StartWith("250");
    }

    [Fact]
    public async Task An_lmtp_endpoint_on_kestrel_speaks_lmtp()
    {
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer().UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp(o => o.Protocol = SmtpEndpointProtocol.Lmtp)));
        });

        await using var client = await RawSmtpClient.ConnectAsync(app.KestrelEndPoints.Single());
        (await client.ReadReplyAsync()).Should().EndWith(" LMTP ready");
        (await client.CommandAsync("EHLO client.test")).Should().StartWith("500 5.5.1");
        (await client.CommandAsync("LHLO client.test")).Should().StartWith("250-");
        await client.SendAsync("MAIL FROM:<a@c.test>\r\nRCPT TO:<b@s.test>\r\nRCPT TO:<c@s.test>\r\nDATA\r\n");
        (await client.ReadRepliesAsync(4))[^1].Should().StartWith("354 ");
        await client.SendAsync("hi\r\n.\r\n");
        (await client.ReadRepliesAsync(2)).Should().AllBe("250 2.0.0 Message accepted");
    }

    [Fact]
    public async Task UseSmtp_takes_the_endpoints_own_policy_size_auth_and_starttls()
    {
        using var certificate = TestCertificates.IssueServer("mx.test");
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer(o =>
                {
                    o.Tls.CertificateSelector = new SniCertificateSelector(new FixedCertificate(certificate));
                    o.Authentication.PasswordAuthenticator = new StartTls.Smtp.Authentication.InMemoryUserStore().AddUser("alice", "secret");
                    o.Authentication.AllowInsecureAuthentication = true;
                })
                .UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp(o =>
            {
                o.Name = "internal";
                o.OfferStartTls = false;
                o.OfferAuthentication = false;
                o.MaxMessageSize = 64;
            })));
        });

        await using var client = await RawSmtpClient.ConnectAsync(app.KestrelEndPoints.Single());
        (await client.ReadReplyAsync()).Should().StartWith("220 ");
        var ehlo = await client.EhloAsync();
        ehlo.Should().Contain("250-SIZE 64\r\n").And.NotContain("STARTTLS").And.NotContain("AUTH");
        (await client.CommandAsync("MAIL FROM:<a@c.test> SIZE=65")).Should().StartWith("552 5.3.4");
    }

    [Fact]
    public async Task Implicit_TLS_endpoint_handshakes_with_the_server_TLS_not_Kestrel_HTTPS()
    {
        using var certificate = TestCertificates.IssueServer("mx.test");
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer(o =>
                {
                    o.ServerName = "mx.test";
                    o.Tls.CertificateSelector = new SniCertificateSelector(new FixedCertificate(certificate));
                })
                .UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp(o => o.ImplicitTls = true)));
        });

        await using var client = await RawSmtpClient.ConnectAsync(app.KestrelEndPoints.Single());
        await using var tls = await TlsSmtpClient.HandshakeAsync(client.Socket, "mx.test");
        (await tls.ReadReplyAsync()).Should().StartWith("220 mx.test");
        await tls.SendAsync("EHLO client.test\r\n");
        (await tls.ReadReplyAsync()).Should().NotContain("STARTTLS", "the session is already inside TLS");
    }

    [Fact]
    public async Task A_TLS_endpoint_without_a_certificate_fails_the_start_with_a_clear_message()
    {
        var start = () => KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer().UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp(o => o.ImplicitTls = true)));
        });

        (await start.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("no certificate is configured");
    }

    [Fact]
    public async Task An_endpoint_policy_the_server_cannot_honour_fails_the_start_naming_every_failure()
    {
        var start = () => KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSmtpServer().UseInMemoryStore().UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp(o =>
            {
                o.Name = "submission";
                o.RequireAuthentication = true; // no credential hook is configured
                o.MaxMessageSize = 0;
                o.ProxyProtocolTrustedSources.Add("10.1/16");
            })));
        });

        var failures = (await start.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>()).Which.Failures;
        failures.Should().HaveCount(3).And.OnlyContain(f => f.StartsWith("Endpoint 'submission': ", StringComparison.Ordinal));
        failures.Should().Contain(f => f.Contains("RequireAuthentication needs an authentication hook", StringComparison.Ordinal))
            .And.Contain(f => f.Contains("MaxMessageSize must be positive", StringComparison.Ordinal))
            .And.Contain(f => f.Contains("'10.1/16'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task UseSmtp_without_AddSmtpServer_fails_the_start_with_a_clear_message()
    {
        var start = () => KestrelSmtpApp.StartAsync(b => b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp())));

        (await start.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("AddSmtpServer");
    }

    [Fact]
    public async Task A_scoped_store_on_a_Kestrel_endpoint_gets_a_scope_per_transaction_under_scope_validation()
    {
        var journal = new ScopedStoreJournal();
        await using var app = await KestrelSmtpApp.StartAsync(b =>
        {
            b.Services.AddSingleton(journal);
            b.Services.AddScoped<PerScopeResource>();
            b.Services.AddSmtpServer(o => o.ServerName = "mx.test").UseMessageStore<ScopedStore>(ServiceLifetime.Scoped).UseKestrelOnly();
            b.WebHost.ConfigureKestrel(k => k.Listen(KestrelSmtpApp.Loopback0, l => l.UseSmtp()));
        });

        await SendOneMessageAsync(app.KestrelEndPoints[0]);
        await SendOneMessageAsync(app.KestrelEndPoints[0]);

        journal.Saved.Should().HaveCount(2);
        journal.Saved.Distinct().Should().HaveCount(2, "each transaction has its own scope, so its own scoped resource");
        await journal.TwoDisposed.Task.WaitAsync(TimeSpan.FromSeconds(30)); // each transaction's scope is disposed when it ends
        journal.Disposed.Should().BeEquivalentTo(journal.Saved);
    }

    internal static async Task SendOneMessageAsync(EndPoint endPoint)
    {
        await using var client = await RawSmtpClient.ConnectAsync(endPoint);
        (await client.ReadReplyAsync()).Should().StartWith("220 ");
        (await client.EhloAsync()).Should().StartWith("250");
        await client.SendAsync(RawSmtpClientExtensions.Envelope + "DATA\r\n");
        (await client.ReadRepliesAsync(3)).Select(static r => r[..3]).Should().Equal("250", "250", "354");
        await client.SendAsync(Message);
        (await client.ReadReplyAsync()).Should().StartWith("250 2.0.0");
        (await client.CommandAsync("QUIT")).Should().StartWith("221");
    }
}

/// <summary>What the scoped store saw: the scoped resource of each save, and which resources were disposed.</summary>
public sealed class ScopedStoreJournal
{
    public System.Collections.Concurrent.ConcurrentQueue<Guid> Saved { get; } = new();

    public System.Collections.Concurrent.ConcurrentQueue<Guid> Disposed { get; } = new();

    /// <summary>Completes when two resources have been disposed.</summary>
    public TaskCompletionSource TwoDisposed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void NoteDisposed(Guid id)
    {
        Disposed.Enqueue(id);
        if (Disposed.Count == 2)
        {
            TwoDisposed.TrySetResult();
        }
    }
}

/// <summary>A scoped service with an identity, like a DbContext: it notes its disposal.</summary>
public sealed class PerScopeResource(ScopedStoreJournal journal) : IDisposable
{
    public Guid Id { get; } = Guid.NewGuid();

    public void Dispose() => journal.NoteDisposed(Id);
}

/// <summary>A store registered as scoped that depends on a scoped service.</summary>
public sealed class ScopedStore(PerScopeResource resource, ScopedStoreJournal journal) : IMessageStore
{
    public async ValueTask<SmtpReply> SaveAsync(SmtpSession session, SmtpEnvelope envelope, Stream content, CancellationToken cancellationToken)
    {
        await content.CopyToAsync(Stream.Null, cancellationToken);
        journal.Saved.Enqueue(resource.Id);
        return SmtpReply.Ok;
    }
}
