using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Samples;

/// <summary>Runs the sample server as a real process: flags, one message into the Maildir, SIGTERM, exit code 0.</summary>
public sealed class SampleServerProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);

    [SkippableFact]
    public async Task Sample_stores_a_message_in_the_maildir_and_stops_gracefully_on_SIGTERM()
    {
        Skip.IfNot(OperatingSystem.IsLinux() || OperatingSystem.IsMacOS(), "SIGTERM is a Unix signal: there is none to send on this OS");

        var work = Directory.CreateTempSubdirectory("starttls-sample-");
        var maildir = Path.Combine(work.FullName, "mail");
        var port = FreePort();
        using var sample = SampleProcess.Start(work.FullName, "--listen", $"127.0.0.1:{port}", "--maildir", maildir);
        try
        {
            await using (var client = await sample.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), StartTimeout))
            {
                (await client.ReadReplyAsync()).Should().StartWith("220 ");
                (await client.EhloAsync()).Should().StartWith("250-");
                (await client.CommandAsync("MAIL FROM:<alice@example.org>")).Should().StartWith("250 2.1.0");
                (await client.CommandAsync("RCPT TO:<bob@example.net>")).Should().StartWith("250 2.1.5");
                (await client.CommandAsync("DATA")).Should().StartWith("354");
                (await client.CommandAsync("Subject: end to end\r\n\r\nHello from the test.\r\n..dot\r\n.")).Should().StartWith("250 2.0.0");
                (await client.CommandAsync("QUIT")).Should().StartWith("221");
            }

            var files = Directory.GetFiles(Path.Combine(maildir, "new"));
            files.Should().ContainSingle();
            var stored = await File.ReadAllTextAsync(files[0]);
            stored.Should().StartWith("Return-Path: <alice@example.org>\r\nReceived: ")
                .And.EndWith("\r\nSubject: end to end\r\n\r\nHello from the test.\r\n.dot\r\n");
            Directory.GetFiles(Path.Combine(maildir, "tmp")).Should().BeEmpty();

            sample.SendSigterm();
            (await sample.WaitForExitAsync(ExitTimeout)).Should().BeTrue("the server should stop within {0}; output:\n{1}", ExitTimeout, sample.Output);
            sample.ExitCode.Should().Be(0, "output:\n{0}", sample.Output);
            sample.Output.Should().Contain($"listening on 127.0.0.1:{port}").And.Contain(maildir).And.Contain("SMTP server stopped");
        }
        finally
        {
            sample.KillIfRunning();
            work.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task Sample_exits_with_code_2_and_a_message_on_a_bad_flag()
    {
        var work = Directory.CreateTempSubdirectory("starttls-sample-");
        try
        {
            using var sample = SampleProcess.Start(work.FullName, "--listen", "127.0.0.1:2525", "--colour");
            (await sample.WaitForExitAsync(StartTimeout)).Should().BeTrue();
            sample.ExitCode.Should().Be(2);
            sample.Output.Should().Contain("unknown option '--colour'");
            Directory.EnumerateFileSystemEntries(work.FullName).Should().BeEmpty("nothing may be created on a usage error");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The sample server, run with the same <c>dotnet</c> host as the tests, its output collected.</summary>
    internal sealed class SampleProcess : IDisposable
    {
        private readonly Process _process;
        private readonly ConcurrentQueue<string> _output = new();
        private readonly List<(Predicate<string> Match, TaskCompletionSource<string> Found)> _waiters = [];

        private SampleProcess(Process process) => _process = process;

        public string Output => string.Join('\n', _output);

        public IReadOnlyCollection<string> Lines => _output;

        public int ExitCode => _process.ExitCode;

        public int Id => _process.Id;

        public bool HasExited => _process.HasExited;

        public static SampleProcess Start(string workingDirectory, params string[] args)
            => Start(workingDirectory, launcher: [], environment: new Dictionary<string, string>(), args);

        /// <summary>
        /// Starts the sample through <paramref name="launcher"/> (e.g. <c>prlimit --nofile=N:N</c>; empty for none), with
        /// <paramref name="environment"/> added after the caller's Smtp__/Maildir__/Logging__ variables are removed.
        /// </summary>
        public static SampleProcess Start(string workingDirectory, IReadOnlyList<string> launcher, IReadOnlyDictionary<string, string> environment, params string[] args)
        {
            var info = new ProcessStartInfo(launcher.Count > 0 ? launcher[0] : DotnetHost.Path)
            {
                WorkingDirectory = workingDirectory,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = true,
                UseShellExecute = false,
            };
            if (launcher.Count > 0)
            {
                foreach (var arg in launcher.Skip(1))
                {
                    info.ArgumentList.Add(arg);
                }

                info.ArgumentList.Add(DotnetHost.Path);
            }

            info.ArgumentList.Add(SampleDll());
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            // Only the flags configure the server under test.
            foreach (var name in info.Environment.Keys.Where(static k => k.StartsWith("Smtp__", StringComparison.OrdinalIgnoreCase)
                         || k.StartsWith("Maildir__", StringComparison.OrdinalIgnoreCase) || k.StartsWith("Logging__", StringComparison.OrdinalIgnoreCase)).ToList())
            {
                info.Environment.Remove(name);
            }

            foreach (var (name, value) in environment)
            {
                info.Environment[name] = value;
            }

            var process = new Process { StartInfo = info, EnableRaisingEvents = true };
            var sample = new SampleProcess(process);
            process.OutputDataReceived += (_, e) => sample.Collect(e.Data);
            process.ErrorDataReceived += (_, e) => sample.Collect(e.Data);
            process.Exited += (_, _) => sample.FailWaiters();
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return sample;
        }

        /// <summary>Connects once the sample says it listens on <paramref name="endPoint"/>, failing early if the process has exited.</summary>
        public async Task<RawSmtpClient> ConnectAsync(IPEndPoint endPoint, TimeSpan timeout)
        {
            // The server logs "listening on" after its socket listens; the console logger writes it later still.
            await WaitForLineAsync(l => l.Contains("listening on " + endPoint, StringComparison.Ordinal), timeout);
            return await RawSmtpClient.ConnectAsync(endPoint);
        }

        /// <summary>Completes with the first output line (already collected or still to come) that matches.</summary>
        public async Task<string> WaitForLineAsync(Predicate<string> match, TimeSpan timeout)
        {
            var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_waiters)
            {
                _waiters.Add((match, found));
            }

            foreach (var line in _output)
            {
                if (match(line))
                {
                    found.TrySetResult(line);
                }
            }

            if (_process.HasExited)
            {
                _process.WaitForExit(); // the last lines
                if (_output.FirstOrDefault(l => match(l)) is { } last)
                {
                    found.TrySetResult(last);
                }

                found.TrySetException(new InvalidOperationException($"The sample has exited; output:\n{Output}"));
            }

            try
            {
                return await found.Task.WaitAsync(timeout);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"No matching line within {timeout} (exited: {_process.HasExited}); output:\n{Output}");
            }
        }

        public void SendSigterm()
        {
            // Process.Kill is SIGKILL; the graceful path needs SIGTERM.
            using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture) }, UseShellExecute = false })!;
            kill.WaitForExit();
            kill.ExitCode.Should().Be(0);
        }

        public async Task<bool> WaitForExitAsync(TimeSpan timeout)
        {
            using var cts = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public void KillIfRunning()
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        public void Dispose()
        {
            KillIfRunning();
            _process.Dispose();
        }

        private void FailWaiters()
        {
            // Let the output still in the pipes arrive first.
            _process.WaitForExit();
            lock (_waiters)
            {
                foreach (var (_, found) in _waiters)
                {
                    found.TrySetException(new InvalidOperationException($"The sample exited with code {_process.ExitCode}; output:\n{Output}"));
                }
            }
        }

        private void Collect(string? line)
        {
            if (line is not null)
            {
                _output.Enqueue(line);
                lock (_waiters)
                {
                    foreach (var (match, found) in _waiters)
                    {
                        if (!found.Task.IsCompleted && match(line))
                        {
                            found.TrySetResult(line);
                        }
                    }
                }
            }
        }

        /// <summary>
        /// The sample's own build output, found beside this test project's (same configuration and framework),
        /// else the copy the project reference puts next to the tests.
        /// </summary>
        private static string SampleDll()
        {
            const string name = "StartTls.Smtp.Server.dll";
            var baseDirectory = AppContext.BaseDirectory;
            for (var dir = new DirectoryInfo(baseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "StartTls.Smtp.sln")))
                {
                    var testProject = Path.Combine(dir.FullName, "tests", "StartTls.Smtp.Tests");
                    var relative = Path.GetRelativePath(testProject, baseDirectory);
                    var candidate = Path.Combine(dir.FullName, "samples", "StartTls.Smtp.Server", relative, name);
                    if (!relative.StartsWith("..", StringComparison.Ordinal) && File.Exists(candidate))
                    {
                        return candidate;
                    }

                    break;
                }
            }

            var copy = Path.Combine(baseDirectory, name);
            File.Exists(copy).Should().BeTrue("the sample server is built with the tests");
            return copy;
        }
    }
}
