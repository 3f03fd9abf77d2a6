using System.Globalization;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Protocol;

/// <summary>docs/threat-model.md T31 under tr-TR: the server's parsing must not depend on the culture (serial: changes process-wide state).</summary>
[Collection(SerialTests.Name)]
public sealed class CultureTranscriptTests
{
    [Fact]
    public async Task T31_mail_from_works_end_to_end_under_tr_TR()
    {
        var turkish = CultureInfo.GetCultureInfo("tr-TR");
        "mail".ToUpper(turkish).Should().Be("MAİL", "ICU is active, so the culture really folds i to İ");

        var savedCurrent = CultureInfo.CurrentCulture;
        var savedDefault = CultureInfo.DefaultThreadCurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = turkish;
            CultureInfo.DefaultThreadCurrentCulture = turkish;
            var filter = new DelegateMailboxFilter();
            await using var server = await TestServer.StartAsync(filter: filter);
            await using var client = await server.ConnectAsync();
            (await client.CommandAsync("ehlo c.test")).Should().StartWith("250-");
            (await client.CommandAsync("mail from:<a@c.test>")).Should().Be("250 2.1.0 Sender OK");
            filter.LastCulture.Should().Be("tr-TR", "the server code ran under the Turkish culture");
            (await client.CommandAsync("rcpt to:<i@s.test> ")).Should().Be("250 2.1.5 Recipient OK");
            (await client.CommandAsync("data")).Should().StartWith("354");
            (await client.CommandAsync("subject: i\r\n.")).Should().StartWith("250 2.0.0");
            (await client.CommandAsync("quit")).Should().Be("221 2.0.0 Bye");

            await using var second = await server.ConnectAsync();
            await second.EhloAsync();
            (await second.CommandCodeAsync("MA\xC4\xB1L FROM:<a@c.test>")).Should().Be("500 5.5.1");
            (await second.CommandCodeAsync("\xC5\xBFTARTTLS")).Should().Be("500 5.5.1");
            (await second.CommandCodeAsync("MAIL FROM:<a@c.test> smtputf8 body=8bitmime size=10")).Should().Be("250 2.1.0");

            var message = server.Messages.Messages.Should().ContainSingle().Subject;
            message.Envelope.From!.Address.Should().Be("a@c.test");
            message.Envelope.Recipients[0].Mailbox.Address.Should().Be("i@s.test");
        }
        finally
        {
            CultureInfo.CurrentCulture = savedCurrent;
            CultureInfo.DefaultThreadCurrentCulture = savedDefault;
        }
    }
}
