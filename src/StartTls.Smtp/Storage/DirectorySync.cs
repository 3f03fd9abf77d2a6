using System.Runtime.InteropServices;

namespace StartTls.Smtp.Storage;

/// <summary>
/// Flushes a directory's entries to disk (<c>open(O_RDONLY|O_DIRECTORY)</c>, <c>fsync</c>, <c>close</c>), so that a
/// file created or renamed into it survives a power failure. .NET cannot open a directory as a file, hence libc.
/// </summary>
internal static partial class DirectorySync
{
    private const string LibC = "libc";
    private const int EINTR = 4;
    private const int EINVAL = 22;

    private static volatile bool s_unavailable;

    /// <summary>True on the platforms where directories are synced (Linux and macOS).</summary>
    public static bool IsSupported => (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && !s_unavailable;

    /// <summary>Flushes <paramref name="directory"/>'s entries to disk.</summary>
    /// <param name="directory">The directory to sync.</param>
    /// <returns><see langword="true"/> when synced; <see langword="false"/> when the platform cannot do it.</returns>
    /// <exception cref="IOException">The directory could not be opened or synced.</exception>
    public static bool Fsync(string directory)
    {
        if (!IsSupported)
        {
            return false;
        }

        try
        {
            return FsyncCore(directory);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            // An unusual libc (or none under that name): stop trying instead of failing every message.
            s_unavailable = true;
            return false;
        }
    }

    private static bool FsyncCore(string directory)
    {
        var flags = OpenDirectoryFlags();
        int fd;
        do
        {
            fd = Open(directory, flags);
        }
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);

        if (fd < 0)
        {
            throw Error("open", directory, Marshal.GetLastPInvokeError());
        }

        try
        {
            int result;
            do
            {
                result = FsyncNative(fd);
            }
            while (result != 0 && Marshal.GetLastPInvokeError() == EINTR);

            // EINVAL: the file system does not support syncing a directory (some FUSE and network file systems);
            // nothing more can be done there, and failing every message would not help.
            if (result != 0 && Marshal.GetLastPInvokeError() is var errno and not EINVAL)
            {
                throw Error("fsync", directory, errno);
            }
        }
        finally
        {
            // Never retry close on EINTR: on Linux the descriptor is released whatever close returns.
            _ = Close(fd);
        }

        return true;
    }

    private static int OpenDirectoryFlags()
    {
        // O_RDONLY is 0 everywhere. O_DIRECTORY and O_CLOEXEC differ between platforms and architectures.
        if (OperatingSystem.IsMacOS())
        {
            return 0x100000 | 0x1000000;
        }

        var oDirectory = RuntimeInformation.ProcessArchitecture is Architecture.Arm or Architecture.Arm64 or Architecture.Ppc64le
            ? 0x4000   // 040000 on arm, arm64 and powerpc
            : 0x10000; // 0200000 on x86, x64, s390x, riscv64, loongarch64 (asm-generic)
        return oDirectory | 0x80000; // O_CLOEXEC, 02000000
    }

    private static IOException Error(string function, string directory, int errno)
        => new($"{function} of directory '{directory}' failed: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}).");

    [LibraryImport(LibC, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport(LibC, EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncNative(int fd);

    [LibraryImport(LibC, EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
