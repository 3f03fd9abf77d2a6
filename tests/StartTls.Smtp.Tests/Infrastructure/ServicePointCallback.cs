using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// System.Net.Mail has no per-client certificate callback: its TLS stream takes the process-wide (obsolete)
/// ServicePointManager.ServerCertificateValidationCallback. Every test that sets it goes through here, one at a time,
/// so no test class can validate another's connection or find the callback cleared under it.
/// </summary>
public static class ServicePointCallback
{
    private static readonly Lock Gate = new();

    /// <summary>Runs <paramref name="action"/> with <paramref name="validate"/> as the process-wide callback, then restores the previous one.</summary>
    public static void With(Func<X509Certificate?, bool> validate, Action action)
    {
#pragma warning disable SYSLIB0014 // ServicePointManager is obsolete; it is what System.Net.Mail, the client under test, uses.
        lock (Gate)
        {
            var previous = ServicePointManager.ServerCertificateValidationCallback;
            ServicePointManager.ServerCertificateValidationCallback = (_, certificate, _, _) => validate(certificate);
            try
            {
                action();
            }
            finally
            {
                ServicePointManager.ServerCertificateValidationCallback = previous;
            }
        }
#pragma warning restore SYSLIB0014
    }
}
