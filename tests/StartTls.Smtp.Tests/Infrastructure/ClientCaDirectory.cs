namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// A fresh temporary directory holding the test CA's certificate as <c>ca.pem</c>, for real clients (swaks, python3,
/// openssl) that validate the server against it; a test may put its other files beside it. Deleted on dispose.
/// </summary>
public sealed class ClientCaDirectory : IDisposable
{
    public ClientCaDirectory()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "starttls-clients-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
        CaPath = System.IO.Path.Combine(Path, "ca.pem");
        File.WriteAllText(CaPath, TestCertificates.Ca.ExportCertificatePem() + "\n");
    }

    /// <summary>The directory.</summary>
    public string Path { get; }

    /// <summary>The test CA's certificate, PEM.</summary>
    public string CaPath { get; }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
