namespace StartTls.Smtp.EmbeddingSample;

/// <summary>Stands for the application's own user database in the README's AUTH example.</summary>
internal interface IUserDirectory
{
    ValueTask<bool> CheckPasswordAsync(string userName, string password, CancellationToken cancellationToken);
}
