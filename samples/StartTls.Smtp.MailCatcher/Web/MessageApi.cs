using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using StartTls.Smtp.MailCatcher.Storage;

namespace StartTls.Smtp.MailCatcher.Web;

/// <summary>The JSON API under <c>/api</c> and the live event stream the page listens to.</summary>
internal static class MessageApi
{
    /// <summary>Maps the API's endpoints.</summary>
    /// <param name="endpoints">The route builder.</param>
    /// <returns>The route builder.</returns>
    public static IEndpointRouteBuilder MapMessageApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var api = endpoints.MapGroup("/api");
        api.MapGet("/messages", ListAsync);
        api.MapGet("/messages/{id:long}", GetAsync);
        api.MapGet("/messages/{id:long}/raw", RawAsync);
        api.MapGet("/messages/{id:long}/html", HtmlAsync);
        api.MapGet("/messages/{id:long}/attachments/{index:int}", AttachmentAsync);
        api.MapDelete("/messages/{id:long}", DeleteAsync);
        api.MapDelete("/messages", DeleteAllAsync);
        api.MapGet("/events", Events);
        return endpoints;
    }

    private static async Task<Ok<List<MessageSummary>>> ListAsync(MessageDatabase database, string? q, CancellationToken cancellationToken)
    {
        var records = await database.ListAsync(q, cancellationToken);
        return TypedResults.Ok(records.ConvertAll(MessageSummary.Of));
    }

    private static async Task<Results<Ok<MessageDetail>, NotFound>> GetAsync(MessageDatabase database, long id, CancellationToken cancellationToken)
        => await database.GetAsync(id, cancellationToken) is { } found
            ? TypedResults.Ok(MessageContent.Describe(found.Record, found.Raw))
            : TypedResults.NotFound();

    private static async Task<Results<FileContentHttpResult, NotFound>> RawAsync(MessageDatabase database, HttpResponse response, long id, CancellationToken cancellationToken)
    {
        if (await database.GetAsync(id, cancellationToken) is not { } found)
        {
            return TypedResults.NotFound();
        }

        // Shown as text, never interpreted: a raw source is not a page.
        response.Headers.ContentSecurityPolicy = SecurityHeaders.MailContentPolicy;
        return TypedResults.File(found.Raw, "text/plain; charset=utf-8");
    }

    private static async Task<Results<ContentHttpResult, NotFound>> HtmlAsync(MessageDatabase database, HttpResponse response, long id, CancellationToken cancellationToken)
    {
        if (await database.GetAsync(id, cancellationToken) is not { } found || MessageContent.Html(found.Raw) is not { } html)
        {
            return TypedResults.NotFound();
        }

        // The mail's HTML runs no script whether it is framed by the page (sandboxed iframe) or opened on its own.
        response.Headers.ContentSecurityPolicy = SecurityHeaders.MailHtmlPolicy;
        response.Headers.XFrameOptions = "SAMEORIGIN";
        response.Headers.CacheControl = "no-store";
        return TypedResults.Content(html, "text/html; charset=utf-8");
    }

    private static async Task<Results<FileContentHttpResult, NotFound>> AttachmentAsync(MessageDatabase database, HttpResponse response, long id, int index, CancellationToken cancellationToken)
    {
        if (await database.GetAsync(id, cancellationToken) is not { } found || MessageContent.Attachment(found.Raw, index) is not { } attachment)
        {
            return TypedResults.NotFound();
        }

        // Always a download with a neutral type: an HTML or SVG attachment must not render in the catcher's origin.
        response.Headers.ContentSecurityPolicy = SecurityHeaders.MailContentPolicy;
        return TypedResults.File(attachment.Content, "application/octet-stream", attachment.FileName);
    }

    private static async Task<Results<NoContent, NotFound>> DeleteAsync(MessageDatabase database, MessageEvents events, long id, CancellationToken cancellationToken)
    {
        if (!await database.DeleteAsync(id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        events.Publish(new MessageEvent("deleted", id));
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> DeleteAllAsync(MessageDatabase database, MessageEvents events, CancellationToken cancellationToken)
    {
        await database.DeleteAllAsync(cancellationToken);
        events.Publish(new MessageEvent("cleared", 0));
        return TypedResults.NoContent();
    }

    private static ServerSentEventsResult<string> Events(MessageEvents events, IHostApplicationLifetime lifetime, HttpContext context)
    {
        // The stream ends with the request or when the app stops, so an open page never holds up shutdown.
        var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        context.Response.RegisterForDispose(stop);
        context.Response.Headers.CacheControl = "no-store";
        return TypedResults.ServerSentEvents(StreamAsync(events.Subscribe(), stop.Token));
    }

    private static async IAsyncEnumerable<SseItem<string>> StreamAsync(MessageEvents.Subscription subscription, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using (subscription)
        {
            // First event at once: the page knows it is live, and changes from now on are queued for it.
            yield return new SseItem<string>("ready", "ready");
            while (true)
            {
                bool more;
                try
                {
                    more = await subscription.Reader.WaitToReadAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    more = false;
                }

                if (!more)
                {
                    yield break;
                }

                while (subscription.Reader.TryRead(out var change))
                {
                    yield return new SseItem<string>(change.Id.ToString(CultureInfo.InvariantCulture), change.Kind);
                }
            }
        }
    }
}
