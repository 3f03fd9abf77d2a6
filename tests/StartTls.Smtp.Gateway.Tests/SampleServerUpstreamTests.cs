using System.Diagnostics;
using System.Net;
using System.Text;
using StartTls.Smtp.Gateway;
using StartTls.Smtp.Gateway.Tests.Infrastructure;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Gateway.Tests;

/// <summary>
/// The gateway in front of the sample server (samples/StartTls.Smtp.Server) run as a process of its own, as a user
/// would run both: the message reaches the sample's Maildir through STARTTLS, with the gateway's Received header.
/// </summary>
public sealed class SampleServerUpstreamTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("gateway-upstream-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact(Timeout = 120_000)]
    public async Task A_relayed_message_lands_in_the_sample_servers_maildir_over_starttls()
    {
        var port = TestGateway.FreePort();
        var maildir = Path.Combine(_directory, "mail");
        var listening = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var sample = StartSample(_directory, line =>
        {
            // The sample logs "SMTP server listening on 127.0.0.1:PORT" once its socket listens.
            if (line.Contains("listening on 127.0.0.1:" + port, StringComparison.Ordinal))
            {
                listening.TrySetResult();
            }
        }, "--listen", "127.0.0.1:" + port, "--maildir", maildir, "--hostname", "upstream.test");
        sample.Exited += (_, _) => listening.TrySetException(new InvalidOperationException("The sample server exited before listening."));
        try
        {
            await listening.Task;
            await RelayAsync(port, maildir);
        }
        finally
        {
            sample.Kill(entireProcessTree: true);
            await sample.WaitForExitAsync();
        }
    }

    private static async Task RelayAsync(int port, string maildir)
    {
        await using var gateway = await TestGateway.StartAsync(port, UpstreamTlsMode.Opportunistic);
        await using var client = await gateway.ConnectAsync();
        (await client.CommandAsync("MAIL FROM:<a@sender.test>")).Should().StartWith("250");
        (await client.CommandAsync("RCPT TO:<b@example.com>")).Should().StartWith("250");
        (await client.CommandAsync("DATA")).Should().StartWith("354");
        (await client.CommandAsync("Subject: via the gateway\r\n\r\nBody\r\n.")).Should().StartWith("250 ");

        var stored = Directory.GetFiles(Path.Combine(maildir, "new")).Should().ContainSingle().Subject;
        var content = await File.ReadAllTextAsync(stored, Encoding.ASCII);
        content.Should().Contain("by upstream.test with ESMTPS", "the gateway used STARTTLS to the sample")
            .And.Contain("by gw.test with ESMTP", "the gateway's own Received header travels with the message")
            .And.Contain("Subject: via the gateway");
    }

    private static Process StartSample(string workingDirectory, Action<string> onLine, params string[] args)
    {
        // The working directory holds the development certificate the sample makes for STARTTLS.
        var info = new ProcessStartInfo(DotnetHost.Path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "StartTls.Smtp.Server.dll"));
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => onLine(e.Data ?? string.Empty);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
