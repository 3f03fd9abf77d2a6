namespace StartTls.Smtp.EmbeddingSample;

/// <summary>Stands for the application's own OAuth 2.0 token introspection (RFC 7662) in the README's AUTH example.</summary>
internal interface ITokenIntrospection
{
    /// <summary>The subject of an active token, or null.</summary>
    ValueTask<string?> GetSubjectAsync(string token, CancellationToken cancellationToken);
}
