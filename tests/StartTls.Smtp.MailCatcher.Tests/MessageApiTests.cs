using System.Net;
using System.Text;
using MailKit.Net.Smtp;
using Microsoft.Data.Sqlite;
using MimeKit;
using StartTls.Smtp.MailCatcher.Tests.Infrastructure;
using StartTls.Smtp.MailCatcher.Web;

namespace StartTls.Smtp.MailCatcher.Tests;

/// <summary>The JSON API, fed by MailKit over STARTTLS against a running catcher on loopback ports.</summary>
public sealed class MessageApiTests
{
    [Fact]
    public async Task A_message_sent_over_STARTTLS_is_listed_the_moment_the_250_arrives()
    {
        await using var catcher = await CatcherInstance.StartAsync();

        var reply = await catcher.SendAsync(TestMessages.Text("first"));
        await catcher.SendAsync(TestMessages.Text("second", from: "other@example.net", to: "someone@example.org"));

        // No waiting: 250 is only sent once the row is committed.
        reply.Should().StartWith("2.0.0 Message caught as ");
        var list = await catcher.ListAsync();
        list.Select(m => m.Subject).Should().Equal("second", "first"); // newest first
        list[0].From.Should().Be("other@example.net");
        list[0].To.Should().Equal("someone@example.org");
        list[1].Size.Should().BeGreaterThan(0);
        list[0].Id.Should().BeGreaterThan(list[1].Id);
    }

    [Fact]
    public async Task Get_returns_headers_text_html_and_attachments_and_raw_returns_the_bytes_received()
    {
        await using var catcher = await CatcherInstance.StartAsync();
        var pdf = Encoding.ASCII.GetBytes("%PDF-1.4 not really a pdf\n");
        var page = Encoding.UTF8.GetBytes("<script>alert(1)</script>");
        await catcher.SendAsync(TestMessages.Rich("Rich één", "The text part.", "<p>The <b>HTML</b> part.</p>",
            ("report.pdf", pdf, "application/pdf"), ("page.html", page, "text/html")));
        var id = (await catcher.ListAsync()).Single().Id;

        var detail = await catcher.GetAsync(id);
        detail.Subject.Should().Be("Rich één");
        detail.From.Should().Be("\"Sender Name\" <sender@example.com>");
        detail.Envelope.From.Should().Be("sender@example.com");
        detail.Envelope.To.Should().Equal("rcpt@example.org");
        detail.Headers.Should().Contain(new HeaderField("Subject", "Rich één"));
        detail.Text.Should().Contain("The text part.");
        detail.Html.Should().Contain("<p>The <b>HTML</b> part.</p>");
        detail.ParseError.Should().BeNull();
        detail.Attachments.Should().Equal(
            new AttachmentInfo(0, "report.pdf", "application/pdf", pdf.Length),
            new AttachmentInfo(1, "page.html", "text/html", page.Length));

        using var attachment = await catcher.Http.GetAsync($"api/messages/{id}/attachments/1");
        attachment.StatusCode.Should().Be(HttpStatusCode.OK);
        (await attachment.Content.ReadAsByteArrayAsync()).Should().Equal(page);
        attachment.Content.Headers.ContentType!.MediaType.Should().Be("application/octet-stream", "an HTML attachment must not render in the catcher's origin");
        attachment.Content.Headers.ContentDisposition!.DispositionType.Should().Be("attachment");
        attachment.Content.Headers.ContentDisposition.FileName.Should().Be("page.html");
        (await catcher.Http.GetAsync($"api/messages/{id}/attachments/2")).StatusCode.Should().Be(HttpStatusCode.NotFound);

        using var raw = await catcher.Http.GetAsync($"api/messages/{id}/raw");
        raw.StatusCode.Should().Be(HttpStatusCode.OK);
        var rawBytes = await raw.Content.ReadAsByteArrayAsync();
        rawBytes.Length.Should().Be((int)detail.Size);
        using (var parsed = MimeMessage.Load(new MemoryStream(rawBytes)))
        {
            parsed.Subject.Should().Be("Rich één");
        }

        using var html = await catcher.Http.GetAsync($"api/messages/{id}/html");
        html.StatusCode.Should().Be(HttpStatusCode.OK);
        html.Content.Headers.ContentType!.MediaType.Should().Be("text/html");
        html.Headers.GetValues("Content-Security-Policy").Should().Equal("default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; sandbox");
        (await html.Content.ReadAsStringAsync()).Should().Contain("<p>The <b>HTML</b> part.</p>");
    }

    [Fact]
    public async Task The_html_view_shows_inline_images_as_data_urls()
    {
        await using var catcher = await CatcherInstance.StartAsync();
        var png = Convert.FromBase64String("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==");
        var body = new BodyBuilder { TextBody = "see the picture" };
        var image = body.LinkedResources.Add("dot.png", png, new ContentType("image", "png"));
        image.ContentId = "dot@test";
        body.HtmlBody = "<p>Picture: <img src=\"cid:dot@test\" alt=\"dot\"></p>";
        var message = TestMessages.Text("inline image");
        message.Body = body.ToMessageBody();
        await catcher.SendAsync(message);
        var id = (await catcher.ListAsync()).Single().Id;

        var html = await catcher.Http.GetStringAsync($"api/messages/{id}/html");

        html.Should().Contain("<img src=\"data:image/png;base64," + Convert.ToBase64String(png) + "\" alt=\"dot\">");
        html.Should().NotContain("cid:");
    }

    [Fact]
    public async Task Search_matches_subject_sender_and_recipient_case_insensitively_and_takes_wildcards_literally()
    {
        await using var catcher = await CatcherInstance.StartAsync();
        await catcher.SendAsync(TestMessages.Text("Invoice 42", from: "billing@shop.example", to: "alice@example.org"));
        await catcher.SendAsync(TestMessages.Text("Welcome", from: "hello@news.example", to: "bob@example.org"));
        await catcher.SendAsync(TestMessages.Text("100% off", from: "deals@shop.example", to: "carol@example.org"));

        (await catcher.ListAsync("invoice")).Select(m => m.Subject).Should().Equal("Invoice 42");
        (await catcher.ListAsync("shop.example")).Select(m => m.Subject).Should().Equal("100% off", "Invoice 42");
        (await catcher.ListAsync("BOB@")).Select(m => m.Subject).Should().Equal("Welcome");
        (await catcher.ListAsync("100%")).Select(m => m.Subject).Should().Equal("100% off");
        (await catcher.ListAsync("%")).Select(m => m.Subject).Should().Equal("100% off");
        (await catcher.ListAsync("_")).Should().BeEmpty();
        (await catcher.ListAsync("nothing like this")).Should().BeEmpty();
        (await catcher.ListAsync(string.Empty)).Should().HaveCount(3);
    }

    [Fact]
    public async Task Delete_removes_one_message_and_delete_all_removes_the_rest()
    {
        await using var catcher = await CatcherInstance.StartAsync();
        await catcher.SendAsync(TestMessages.Text("one"));
        await catcher.SendAsync(TestMessages.Text("two"));
        await catcher.SendAsync(TestMessages.Text("three"));
        var ids = (await catcher.ListAsync()).Select(m => m.Id).ToList();

        (await catcher.Http.DeleteAsync($"api/messages/{ids[1]}")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await catcher.Http.DeleteAsync($"api/messages/{ids[1]}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await catcher.Http.GetAsync($"api/messages/{ids[1]}")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await catcher.Http.GetAsync($"api/messages/{ids[1]}/raw")).StatusCode.Should().Be(HttpStatusCode.NotFound);
        (await catcher.ListAsync()).Select(m => m.Subject).Should().Equal("three", "one");

        (await catcher.Http.DeleteAsync("api/messages")).StatusCode.Should().Be(HttpStatusCode.NoContent);
        (await catcher.ListAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task Only_the_newest_N_messages_are_kept()
    {
        await using var catcher = await CatcherInstance.StartAsync(keep: 3);
        for (var i = 1; i <= 5; i++)
        {
            await catcher.SendAsync(TestMessages.Text($"message {i}"));
        }

        (await catcher.ListAsync()).Select(m => m.Subject).Should().Equal("message 5", "message 4", "message 3");
        await using var connection = new SqliteConnection($"Data Source={catcher.DatabasePath}");
        await connection.OpenAsync();
        await using var count = connection.CreateCommand();
        count.CommandText = "SELECT COUNT(*) FROM messages;";
        ((long)(await count.ExecuteScalarAsync())!).Should().Be(3, "older rows are deleted, not just hidden");
    }

    [Fact]
    public async Task A_message_MimeKit_cannot_parse_is_accepted_and_kept_raw_with_the_reason()
    {
        await using var catcher = await CatcherInstance.StartAsync();
        const string content = "this line is not a header\r\nnor is this one\r\n";

        var reply = await PlainSmtp.SendRawAsync(catcher.SmtpPort, content);

        reply.Should().StartWith("250 2.0.0 Message caught as ");
        var summary = (await catcher.ListAsync()).Single();
        summary.From.Should().Be("raw@example.com", "the envelope stands in for missing headers");
        summary.To.Should().Equal("rcpt@example.org");
        var detail = await catcher.GetAsync(summary.Id);
        detail.ParseError.Should().NotBeNullOrEmpty();
        detail.Text.Should().BeNull();
        detail.Headers.Should().BeEmpty();
        (await catcher.Http.GetStringAsync($"api/messages/{summary.Id}/raw")).Should().Be(content);
        (await catcher.Http.GetAsync($"api/messages/{summary.Id}/html")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task An_empty_message_is_accepted()
    {
        await using var catcher = await CatcherInstance.StartAsync();

        var reply = await PlainSmtp.SendRawAsync(catcher.SmtpPort, string.Empty);

        reply.Should().StartWith("250 ");
        var summary = (await catcher.ListAsync()).Single();
        summary.Size.Should().Be(0);
        (await catcher.Http.GetAsync($"api/messages/{summary.Id}")).StatusCode.Should().Be(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_store_that_cannot_commit_answers_451_and_keeps_nothing()
    {
        await using var catcher = await CatcherInstance.StartAsync();
        await using (var connection = new SqliteConnection($"Data Source={catcher.DatabasePath}"))
        {
            await connection.OpenAsync();
            await using var drop = connection.CreateCommand();
            drop.CommandText = "ALTER TABLE messages RENAME TO broken;";
            await drop.ExecuteNonQueryAsync();
        }

        var send = () => catcher.SendAsync(TestMessages.Text("lost"));

        var failure = (await send.Should().ThrowAsync<SmtpCommandException>()).Which;
        failure.StatusCode.Should().Be((MailKit.Net.Smtp.SmtpStatusCode)451);
        failure.Message.Should().Contain("try again later");
        failure.ErrorCode.Should().Be(SmtpErrorCode.MessageNotAccepted);
    }

    [Fact]
    public async Task The_event_stream_announces_each_stored_message()
    {
        await using var catcher = await CatcherInstance.StartAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var response = await catcher.Http.GetAsync("api/events", HttpCompletionOption.ResponseHeadersRead, timeout.Token);
        response.Content.Headers.ContentType!.MediaType.Should().Be("text/event-stream");
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
        (await ReadEventAsync(reader, timeout.Token)).Should().Be(("ready", "ready"));

        await catcher.SendAsync(TestMessages.Text("announced"));

        var id = (await catcher.ListAsync()).Single().Id;
        (await ReadEventAsync(reader, timeout.Token)).Should().Be(("stored", id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        (await catcher.Http.DeleteAsync($"api/messages/{id}")).EnsureSuccessStatusCode();
        (await ReadEventAsync(reader, timeout.Token)).Should().Be(("deleted", id.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Fact]
    public async Task The_app_pages_carry_a_script_free_content_security_policy()
    {
        await using var catcher = await CatcherInstance.StartAsync();

        foreach (var path in new[] { "/", "/app.js", "/app.css", "/api/messages" })
        {
            using var response = await catcher.Http.GetAsync(path);
            response.StatusCode.Should().Be(HttpStatusCode.OK, path);
            var policy = response.Headers.GetValues("Content-Security-Policy").Single();
            policy.Should().Contain("default-src 'none'").And.Contain("script-src 'self'").And.Contain("frame-ancestors 'none'")
                .And.NotContain("unsafe-inline").And.NotContain("unsafe-eval");
            response.Headers.GetValues("X-Content-Type-Options").Should().Equal("nosniff");
        }

        var page = await catcher.Http.GetStringAsync("/");
        page.Should().Contain("sandbox=\"\"").And.NotContain("allow-scripts");
    }

    private static async Task<(string Event, string Data)> ReadEventAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        string? name = null;
        string? data = null;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0 && data is not null)
            {
                return (name ?? "message", data);
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                name = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line["data: ".Length..];
            }
        }

        throw new EndOfStreamException("The event stream ended.");
    }
}
