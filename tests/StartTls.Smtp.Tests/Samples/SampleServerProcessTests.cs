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

            await sample.SendSigtermAsync();
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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The sample server, run with the same <c>dotnet</c> host as the tests through <see cref="CliTool"/>, its output collected.</summary>
    private sealed class SampleProcess : IDisposable
    {
        private readonly CliProcess _process;

        private SampleProcess(CliProcess process) => _process = process;

        public string Output => _process.Output;

        public int ExitCode => _process.ExitCode;

        public static SampleProcess Start(string workingDirectory, params string[] args)
            => new(CliTool.Start(DotnetHost(), [SampleDll(), .. args], info =>
            {
                info.WorkingDirectory = workingDirectory;

                // Only the flags configure the server under test.
                foreach (var name in info.Environment.Keys.Where(static k => k.StartsWith("Smtp__", StringComparison.OrdinalIgnoreCase)
                             || k.StartsWith("Maildir__", StringComparison.OrdinalIgnoreCase) || k.StartsWith("Logging__", StringComparison.OrdinalIgnoreCase)).ToList())
                {
                    info.Environment.Remove(name);
                }
            }));

        /// <summary>Connects once the server says it is listening; fails early if the process exits first.</summary>
        public async Task<RawSmtpClient> ConnectAsync(IPEndPoint endPoint, TimeSpan timeout)
        {
            (await _process.WaitForOutputAsync("listening on " + endPoint, timeout)).Should()
                .BeTrue("the sample should listen on {0} (exited: {1}); output:\n{2}", endPoint, _process.HasExited, Output);
            return await RawSmtpClient.ConnectAsync(endPoint);
        }

        public async Task SendSigtermAsync()
        {
            // Process.Kill is SIGKILL; the graceful path needs SIGTERM.
            var kill = await CliTool.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.ExitCode.Should().Be(0, kill.ToString());
        }

        public Task<bool> WaitForExitAsync(TimeSpan timeout) => _process.WaitForExitAsync(timeout);

        public void KillIfRunning() => _process.Kill();

        public void Dispose() => _process.Dispose();

        private static string DotnetHost()
        {
            var hostPath = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            if (!string.IsNullOrEmpty(hostPath) && File.Exists(hostPath))
            {
                return hostPath;
            }

            var processPath = Environment.ProcessPath;
            return processPath is not null && Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet";
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
