namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>The <c>dotnet</c> executable that runs these tests, for starting a sample's DLL as its own process.</summary>
public static class DotnetHost
{
    /// <summary>
    /// <c>DOTNET_HOST_PATH</c> (set by <c>dotnet test</c>) when it names a file, else this process when it is the
    /// dotnet host, else <c>dotnet</c> from the PATH.
    /// </summary>
    public static string Path
    {
        get
        {
            var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath))
            {
                return hostPath;
            }

            var processPath = Environment.ProcessPath;
            return processPath is not null && System.IO.Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet";
        }
    }
}
