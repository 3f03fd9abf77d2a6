using System.Reflection;

namespace StartTls.Smtp.MailCatcher.Web;

/// <summary>
/// Serves the page's files (wwwroot, embedded in the assembly), so the catcher works from any working directory and
/// from a test host without a content root.
/// </summary>
internal static class EmbeddedAssets
{
    private static readonly (string Path, string Resource, string ContentType)[] Assets =
    [
        ("/", "wwwroot/index.html", "text/html; charset=utf-8"),
        ("/app.js", "wwwroot/app.js", "text/javascript; charset=utf-8"),
        ("/app.css", "wwwroot/app.css", "text/css; charset=utf-8"),
    ];

    /// <summary>Maps <c>/</c>, <c>/app.js</c> and <c>/app.css</c>.</summary>
    /// <param name="endpoints">The route builder.</param>
    /// <returns>The route builder.</returns>
    public static IEndpointRouteBuilder MapCatcherPages(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var assembly = Assembly.GetExecutingAssembly();
        foreach (var (path, resource, contentType) in Assets)
        {
            using var stream = assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"The embedded resource {resource} is missing.");
            using var buffer = new MemoryStream();
            stream.CopyTo(buffer);
            var content = buffer.ToArray();
            endpoints.MapGet(path, () => TypedResults.Bytes(content, contentType));
        }

        return endpoints;
    }
}
