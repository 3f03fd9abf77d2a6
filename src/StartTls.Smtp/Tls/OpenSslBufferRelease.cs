using System.Diagnostics.CodeAnalysis;
using System.Net.Security;
using System.Reflection;
using System.Runtime.InteropServices;

namespace StartTls.Smtp.Tls;

/// <summary>
/// Makes OpenSSL free a TLS session's record buffers while they are empty (Linux only, best effort), when
/// <see cref="SmtpTlsOptions.ReleaseIdleBuffers"/> asks for it.
/// </summary>
internal static class OpenSslBufferRelease
{
    /// <summary>
    /// Sets <c>SSL_MODE_RELEASE_BUFFERS</c> on the session's OpenSSL handle, so that OpenSSL frees its record buffers
    /// whenever they are empty, as nginx and CPython do. Without it every TLS session keeps a ~17 KB read and a ~17 KB
    /// write buffer for its whole life, idle or not (measured: 14 KiB less RSS per idle session with it); with it, a
    /// busy session allocates and frees a buffer around its reads and writes instead. SslStream has no option for it (a
    /// dotnet/runtime matter), so the mode is set on the handle SslStream holds, right after the handshake, before any
    /// read or write. Anything unexpected (not Linux, another runtime layout, no libssl mapped) leaves the session as
    /// it is.
    /// </summary>
    /// <param name="stream">A server SslStream whose handshake just completed.</param>
    /// <returns>True when the mode was set.</returns>
    public static bool Apply(SslStream stream)
    {
        if (!Native.Released(stream))
        {
            return false;
        }

        Interlocked.Increment(ref s_released);
        return true;
    }

    /// <summary>How many sessions got their buffers released; for tests.</summary>
    public static long ReleasedCount => Interlocked.Read(ref s_released);

    private static long s_released;

    /// <summary>The one libssl call needed, resolved once from the libssl the runtime itself loaded.</summary>
    private static unsafe class Native
    {
        private const int SslCtrlMode = 33; // SSL_CTRL_MODE: SSL_set_mode is a macro over SSL_ctrl.
        private const nint SslModeReleaseBuffers = 0x10;

        private const string SecurityContextField = "_securityContext";

        // The trimmer and the AOT compiler see this GetField (a constant name on a known type) and keep the field; the
        // DynamicDependency on Released says so explicitly. A runtime without the field makes this null: no effect.
        private static readonly FieldInfo? SecurityContext = typeof(SslStream).GetField(SecurityContextField, BindingFlags.Instance | BindingFlags.NonPublic);

        // long SSL_ctrl(SSL *ssl, int cmd, long larg, void *parg); long is pointer-sized on Linux.
        private static readonly delegate* unmanaged<nint, int, nint, nint, nint> SslCtrl = Resolve();

        [DynamicDependency(SecurityContextField, typeof(SslStream))]
        public static bool Released(SslStream stream)
        {
            if (SslCtrl is null
                || SecurityContext?.GetValue(stream) is not SafeHandle handle
                || handle.IsInvalid
                || handle.GetType().FullName != "Microsoft.Win32.SafeHandles.SafeSslHandle")
            {
                return false;
            }

            var added = false;
            try
            {
                handle.DangerousAddRef(ref added);
                var mode = SslCtrl(handle.DangerousGetHandle(), SslCtrlMode, SslModeReleaseBuffers, 0);
                return (mode & SslModeReleaseBuffers) != 0;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
            finally
            {
                if (added)
                {
                    handle.DangerousRelease();
                }
            }
        }

        /// <summary>
        /// SSL_ctrl from the libssl mapped into this process (the one the runtime's OpenSSL shim loaded), so the handle
        /// and the function always come from the same library; none when there is no single one.
        /// </summary>
        private static delegate* unmanaged<nint, int, nint, nint, nint> Resolve()
        {
            if (!OperatingSystem.IsLinux())
            {
                return null;
            }

            try
            {
                string? path = null;
                foreach (var line in File.ReadLines("/proc/self/maps"))
                {
                    var start = line.IndexOf('/', StringComparison.Ordinal);
                    if (start < 0 || !Path.GetFileName(line.AsSpan(start)).StartsWith("libssl.so", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var candidate = line[start..];
                    if (path is not null && path != candidate)
                    {
                        // Two different libssl builds in one process: which one holds the handle is not knowable here.
                        return null;
                    }

                    path = candidate;
                }

                return path is not null && NativeLibrary.TryLoad(path, out var library) && NativeLibrary.TryGetExport(library, "SSL_ctrl", out var function)
                    ? (delegate* unmanaged<nint, int, nint, nint, nint>)function
                    : null;
            }
            catch (IOException)
            {
                return null;
            }
            catch (UnauthorizedAccessException)
            {
                return null;
            }
        }
    }
}
