using Microsoft.Extensions.Logging;
using StartTls.Smtp.Authentication;
using StartTls.Smtp.Storage;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Connections;

/// <summary>
/// An exception nobody expected inside a session (here: a custom SASL mechanism that throws where no hook guard is)
/// gets <c>421 4.3.0</c> before the close, is logged with the exception, and leaves the server serving others.
/// </summary>
public sealed class UnexpectedErrorTests
{
    [Fact]
    public async Task An_unexpected_exception_gets_421_4_3_0_then_the_close_and_one_error_log_entry()
    {
        using var logs = new LogCapture();
        var options = new SmtpServerOptions { ServerName = "mx.test" };
        options.Authentication.PasswordAuthenticator = new InMemoryUserStore().AddUser("alice", "secret");
        options.Authentication.AllowInsecureAuthentication = true;
        options.Authentication.Mechanisms.Insert(0, new BrokenMechanism());
        await using var server = new SmtpServer(options, new InMemoryMessageStore(), loggerFactory: logs);

        await using (var client = PipeConnection.Start(server))
        {
            await client.ReadReplyAsync();
            (await client.CommandAsync("EHLO c.test")).Should().Contain("AUTH X-BROKEN PLAIN LOGIN");
            await client.SendAsync("AUTH X-BROKEN\r\n");

            (await client.ReadToEndAsync()).Should().Be("421 4.3.0 Temporary failure, try again later\r\n");
        }

        logs.Events.Where(e => e.Level >= LogLevel.Error).Should().ContainSingle()
            .Which.Exception.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Be("bug in a custom mechanism");
        await using var next = PipeConnection.Start(server);
        (await next.ReadReplyAsync()).Should().StartWith("220 ", "one broken session does not stop the server");
    }

    private sealed class BrokenMechanism : SaslMechanism
    {
        public override string Name => "X-BROKEN";

        public override bool IsClientFirst => false;

        public override bool ExposesSecret => false;

        public override bool IsAvailable(SaslContext context) => true;

        public override ISaslExchange CreateExchange(SaslContext context) => throw new InvalidOperationException("bug in a custom mechanism");
    }
}
