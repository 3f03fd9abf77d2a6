using System.Text;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Authentication;

public sealed class AuthSmokeTests
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public async Task Plain_and_login_with_insecure_auth_allowed()
    {
        var users = new InMemoryUserStore().AddUser("alice", "secret");
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Authentication.PasswordAuthenticator = users;
            o.Authentication.AllowInsecureAuthentication = true;
            o.Authentication.RequireAuthentication = true;
        });
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().Contain("250-AUTH PLAIN LOGIN");
        (await client.CommandAsync("MAIL FROM:<a@c.test>")).Should().StartWith("530 5.7.0");
        (await client.CommandAsync("AUTH PLAIN " + B64("\0alice\0wrong"))).Should().StartWith("535 5.7.8");
        (await client.CommandAsync("AUTH LOGIN")).Should().Be("334 VXNlcm5hbWU6");
        (await client.CommandAsync(B64("alice"))).Should().Be("334 UGFzc3dvcmQ6");
        (await client.CommandAsync(B64("secret"))).Should().StartWith("235 2.7.0");
        (await client.CommandAsync("AUTH PLAIN " + B64("\0alice\0secret"))).Should().StartWith("503 5.5.1");
        (await client.CommandAsync("MAIL FROM:<a@c.test> AUTH=<>")).Should().StartWith("250");
    }

    [Fact]
    public async Task Auth_before_tls_is_refused_without_a_334()
    {
        var users = new InMemoryUserStore().AddUser("alice", "secret");
        await using var server = await TestServer.StartAsync(o => o.Authentication.PasswordAuthenticator = users);
        await using var client = await server.ConnectAsync();
        (await client.EhloAsync()).Should().NotContain("AUTH");
        (await client.CommandAsync("AUTH LOGIN")).Should().StartWith("530 5.7.0");
        (await client.CommandAsync("AUTH PLAIN " + B64("\0alice\0secret"))).Should().StartWith("530 5.7.0");
    }

    [Fact]
    public async Task Pipelined_command_after_auth_login_is_read_as_a_response()
    {
        var users = new InMemoryUserStore().AddUser("alice", "secret");
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Authentication.PasswordAuthenticator = users;
            o.Authentication.AllowInsecureAuthentication = true;
        });
        await using var client = await server.ConnectAsync();
        await client.EhloAsync();
        await client.SendAsync("AUTH LOGIN\r\nMAIL FROM:<a@c.test>\r\n");
        (await client.ReadRepliesAsync(2)).Should().Equal("334 VXNlcm5hbWU6", "501 5.5.2 Cannot decode response");
    }

    [Fact]
    public async Task Auth_needs_ehlo_first_and_helo_does_not_count()
    {
        var users = new InMemoryUserStore().AddUser("alice", "secret");
        await using var server = await TestServer.StartAsync(o =>
        {
            o.Authentication.PasswordAuthenticator = users;
            o.Authentication.AllowInsecureAuthentication = true;
        });
        await using var client = await server.ConnectAsync();
        (await client.CommandAsync("AUTH PLAIN " + B64("\0alice\0secret"))).Should().StartWith("503 5.5.1");
        (await client.CommandAsync("HELO client.test")).Should().StartWith("250");
        (await client.CommandAsync("AUTH PLAIN " + B64("\0alice\0secret"))).Should().StartWith("503 5.5.1");
        await client.EhloAsync();
        (await client.CommandAsync("AUTH PLAIN " + B64("\0alice\0secret"))).Should().StartWith("235 2.7.0");
    }
}
