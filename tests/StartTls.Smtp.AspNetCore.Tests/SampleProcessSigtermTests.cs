using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace StartTls.Smtp.AspNetCore.Tests;

/// <summary>
/// The ASP.NET Core sample as a real process (SMTP on a Kestrel endpoint from configuration, Kestrel-only, Maildir):
/// on SIGTERM an idle session gets 421 4.3.2, a message in flight may finish, one that stalls is dropped whole, and
/// the process exits with code 0.
/// </summary>
public sealed partial class SampleProcessSigtermTests
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60); // hang guards only, never a timing assertion

    [SkippableFact]
    public async Task SIGTERM_drains_the_Kestrel_SMTP_sessions_and_exits_0()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "SIGTERM is a Unix signal: there is none to send on this OS");
        var work = Directory.CreateTempSubdirectory("aspnetcore-sample.");
        try
        {
            var maildir = Path.Combine(work.FullName, "mail");
            // Promptness without a timing assertion: the host would wait up to 10 minutes for its services to stop
            // (shutdownTimeoutSeconds), far beyond the hang guards, so the process can only exit within them if the
            // SMTP server itself ends the stalled session at its own ShutdownTimeout (3 s) and returns.
            using var sample = SampleApp.Start(work.FullName,
                "--Kestrel:Endpoints:Smtp:Url=http://127.0.0.1:0", $"--Maildir:Path={maildir}", "--Smtp:ShutdownTimeout=00:00:03", "--Smtp:ServerName=mx.test",
                "--shutdownTimeoutSeconds=600");
            var listening = await sample.WaitForLineAsync(l => ListeningLine().IsMatch(l)).WaitAsync(Guard);
            var endPoint = new IPEndPoint(IPAddress.Loopback, int.Parse(ListeningLine().Match(listening).Groups[1].Value));

            await using var idle = await ConnectAsync(endPoint);
            await using var finishing = await StartMessageAsync(endPoint, "Subject: finishing\r\n\r\nfirst half\r\n");
            await using var stalled = await StartMessageAsync(endPoint, "Subject: stalled\r\n\r\nonly half\r\n");

            sample.Terminate();

            (await idle.ReadReplyAsync(Guard)).Should().Be("421 4.3.2 Service shutting down, closing connection");
            (await idle.IsClosedAsync(Guard)).Should().BeTrue();
            await finishing.SendAsync("second half\r\n.\r\n");
            (await finishing.ReadReplyAsync(Guard)).Should().StartWith("250 2.0.0");
            (await finishing.ReadReplyAsync(Guard)).Should().StartWith("421 4.3.2");
            (await stalled.ReadToEndAsync(Guard)).Should().NotContain("250", "a message cut off by the stop is never acknowledged");

            (await sample.WaitForExitAsync().WaitAsync(Guard)).Should().Be(0, sample.Output);
            sample.Output.Should().Contain("Application is shutting down");
            var stored = Directory.GetFiles(Path.Combine(maildir, "new"));
            stored.Should().ContainSingle("only the message that finished is stored");
            (await File.ReadAllTextAsync(stored[0])).Should().Contain("Subject: finishing").And.EndWith("first half\r\nsecond half\r\n");
            Directory.GetFiles(Path.Combine(maildir, "tmp")).Should().BeEmpty("nothing half-received is kept");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static async Task<RawSmtpClient> ConnectAsync(IPEndPoint endPoint)
    {
        var client = await RawSmtpClient.ConnectAsync(endPoint);
        (await client.ReadReplyAsync()).Should().StartWith("220 mx.test");
        (await client.EhloAsync()).Should().StartWith("250");
        return client;
    }

    private static async Task<RawSmtpClient> StartMessageAsync(IPEndPoint endPoint, string firstPart)
    {
        var client = await ConnectAsync(endPoint);
        await client.StartDataAsync();
        await client.SendAsync(firstPart);
        return client;
    }

    [GeneratedRegex(@"Now listening on: http://127\.0\.0\.1:(\d+)")]
    private static partial Regex ListeningLine();

    /// <summary>The sample's process, with its output collected and waited on by line.</summary>
    private sealed class SampleApp : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _output = new();
        private readonly object _gate = new();
        private readonly List<(Predicate<string> Match, TaskCompletionSource<string> Found)> _waiters = [];

        private SampleApp(Process process) => _process = process;

        public string Output => string.Join('\n', _output);

        public static SampleApp Start(string workingDirectory, params string[] args)
        {
            // The working directory is the content root: the sample's appsettings.json (in its bin) is not loaded,
            // so only these arguments configure it.
            var info = new ProcessStartInfo(DotnetHost.Path)
            {
                WorkingDirectory = workingDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            info.ArgumentList.Add(SampleDll());
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            foreach (var name in info.Environment.Keys.Where(static k => k.StartsWith("Smtp__", StringComparison.OrdinalIgnoreCase)
                         || k.StartsWith("Kestrel__", StringComparison.OrdinalIgnoreCase) || k.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase)).ToList())
            {
                info.Environment.Remove(name);
            }

            var process = new Process { StartInfo = info, EnableRaisingEvents = true };
            var app = new SampleApp(process);
            process.OutputDataReceived += (_, e) => app.Collect(e.Data);
            process.ErrorDataReceived += (_, e) => app.Collect(e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return app;
        }

        public Task<string> WaitForLineAsync(Predicate<string> match)
        {
            lock (_gate)
            {
                var seen = _output.FirstOrDefault(l => match(l));
                if (seen is not null)
                {
                    return Task.FromResult(seen);
                }

                var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((match, found));
                return found.Task;
            }
        }

        /// <summary>SIGTERM (Process.Kill would be SIGKILL).</summary>
        public void Terminate()
        {
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
            kill.WaitForExit();
            kill.ExitCode.Should().Be(0);
        }

        public async Task<int> WaitForExitAsync()
        {
            await _process.WaitForExitAsync();
            return _process.ExitCode;
        }

        public void Dispose()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            _process.Dispose();
        }

        /// <summary>The sample's build output beside this test project's (same configuration and framework).</summary>
        private static string SampleDll()
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "StartTls.Smtp.sln")))
                {
                    var relative = Path.GetRelativePath(Path.Combine(dir.FullName, "tests", "StartTls.Smtp.AspNetCore.Tests"), AppContext.BaseDirectory);
                    var candidate = Path.Combine(dir.FullName, "samples", "StartTls.Smtp.AspNetCoreSample", relative, "StartTls.Smtp.AspNetCoreSample.dll");
                    File.Exists(candidate).Should().BeTrue("the sample is built with the tests (project reference)");
                    return candidate;
                }
            }

            throw new InvalidOperationException("StartTls.Smtp.sln not found above " + AppContext.BaseDirectory);
        }

        private void Collect(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_gate)
            {
                _output.Enqueue(line);
                foreach (var waiter in _waiters.Where(w => w.Match(line)).ToList())
                {
                    _waiters.Remove(waiter);
                    waiter.Found.TrySetResult(line);
                }
            }
        }
    }
}
