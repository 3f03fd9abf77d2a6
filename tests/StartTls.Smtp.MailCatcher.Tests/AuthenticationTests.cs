using StartTls.Smtp.MailCatcher.Tests.Infrastructure;

namespace StartTls.Smtp.MailCatcher.Tests;

/// <summary><c>--user NAME:PASSWORD</c>: AUTH PLAIN and LOGIN offered after STARTTLS, and required.</summary>
public sealed class AuthenticationTests
{
    [Fact]
    public async Task With_a_user_AUTH_PLAIN_or_LOGIN_is_required_and_accepted()
    {
        await using var catcher = await CatcherInstance.StartAsync(user: "dev:s3cret:with-colon");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));

        using (var client = await catcher.ConnectAsync(cancellationToken: timeout.Token))
        {
            client.AuthenticationMechanisms.Should().BeEquivalentTo(["PLAIN", "LOGIN"]);
            var anonymous = () => client.SendAsync(TestMessages.Text("anonymous"), timeout.Token);
            (await anonymous.Should().ThrowAsync<MailKit.ServiceNotAuthenticatedException>()).Which.Message.Should().Contain("5.7.0 Authentication required");
            var wrong = () => client.AuthenticateAsync("dev", "wrong", timeout.Token);
            await wrong.Should().ThrowAsync<MailKit.Security.AuthenticationException>();
        }

        foreach (var mechanism in new[] { "PLAIN", "LOGIN" })
        {
            using var client = await catcher.ConnectAsync(cancellationToken: timeout.Token);
            client.AuthenticationMechanisms.Clear();
            client.AuthenticationMechanisms.Add(mechanism);
            await client.AuthenticateAsync("dev", "s3cret:with-colon", timeout.Token);
            await client.SendAsync(TestMessages.Text("via " + mechanism), timeout.Token);
            await client.DisconnectAsync(true, timeout.Token);
        }

        (await catcher.ListAsync()).Select(m => m.Subject).Should().Equal("via LOGIN", "via PLAIN");
    }
}
