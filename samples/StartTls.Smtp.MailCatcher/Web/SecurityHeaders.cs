using Microsoft.Net.Http.Headers;

namespace StartTls.Smtp.MailCatcher.Web;

/// <summary>
/// The response headers that keep mail content from acting in the catcher's origin. The app's own pages get a strict
/// policy (only its own script and style files, no inline code); endpoints that serve mail content set their own,
/// stricter one (<see cref="MailHtmlPolicy"/>, <see cref="MailContentPolicy"/>) and are left alone.
/// </summary>
internal static class SecurityHeaders
{
    /// <summary>The policy of the catcher's own pages and API.</summary>
    public const string AppPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        + "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>
    /// The policy of a message's HTML body: no script, no fetches, inline images and styles only, and a sandbox even
    /// when the page is opened on its own rather than in the page's sandboxed iframe.
    /// </summary>
    public const string MailHtmlPolicy = "default-src 'none'; img-src data: cid:; style-src 'unsafe-inline'; sandbox";

    /// <summary>The policy of raw sources and attachments: nothing runs, nothing loads.</summary>
    public const string MailContentPolicy = "default-src 'none'; sandbox";

    /// <summary>Adds the headers to every response that did not set its own policy.</summary>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static IApplicationBuilder UseCatcherSecurityHeaders(this IApplicationBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Use(static (context, next) =>
        {
            context.Response.OnStarting(static state =>
            {
                var headers = ((HttpResponse)state).Headers;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                if (!headers.ContainsKey(HeaderNames.ContentSecurityPolicy))
                {
                    headers.ContentSecurityPolicy = AppPolicy;
                }

                if (!headers.ContainsKey(HeaderNames.XFrameOptions))
                {
                    headers.XFrameOptions = "DENY";
                }

                return Task.CompletedTask;
            }, context.Response);
            return next(context);
        });
    }
}
