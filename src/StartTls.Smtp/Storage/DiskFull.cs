namespace StartTls.Smtp.Storage;

/// <summary>Recognises the I/O errors that mean "no room": the file system is full or the user's quota is used up.</summary>
internal static class DiskFull
{
    // On Unix .NET puts the platform's errno in HResult; the numbers differ between Linux and the BSDs (macOS).
    private const int Enospc = 28;
    private const int EdquotLinux = 122;
    private const int EdquotBsd = 69;

    // On Windows HResult is HRESULT_FROM_WIN32 of ERROR_DISK_FULL, ERROR_HANDLE_DISK_FULL or ERROR_DISK_QUOTA_EXCEEDED.
    private const int WindowsDiskFull = unchecked((int)0x80070070);
    private const int WindowsHandleDiskFull = unchecked((int)0x80070027);
    private const int WindowsQuotaExceeded = unchecked((int)0x8007050F);

    /// <summary>Whether <paramref name="exception"/> is ENOSPC or EDQUOT (or their Windows equivalents).</summary>
    public static bool Is(Exception exception)
    {
        if (exception is not IOException)
        {
            return false;
        }

        var code = exception.HResult;
        if (OperatingSystem.IsWindows())
        {
            return code is WindowsDiskFull or WindowsHandleDiskFull or WindowsQuotaExceeded;
        }

        return code == Enospc || code == (OperatingSystem.IsLinux() ? EdquotLinux : EdquotBsd);
    }
}
