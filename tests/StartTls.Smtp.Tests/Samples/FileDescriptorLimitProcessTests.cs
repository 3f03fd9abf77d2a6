using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using StartTls.Smtp.Tests.Infrastructure;
using static StartTls.Smtp.Tests.Samples.SampleServerProcessTests;

namespace StartTls.Smtp.Tests.Samples;

/// <summary>
/// The sample server as a child process under a low RLIMIT_NOFILE (<c>prlimit</c>, Linux): it lowers MaxConnections
/// to what the limit allows, refuses the connections over it with a bounded number of log lines, stays alive, and
/// serves again, delivering a message, once the clients have gone.
/// </summary>
/// <remarks>
/// The accept loop's backoff when descriptors do run out is tested in process (SocketListenerBackoffTests): a .NET
/// process with no descriptor left can abort by itself ("Out of memory.") when the runtime needs a new thread, so a
/// test that exhausts the child's descriptors would fail now and then for reasons outside this code.
/// </remarks>
public sealed partial class FileDescriptorLimitProcessTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(10);

    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Smtp__MaxConnections"] = "1000",
        ["Smtp__MaxConnectionsPerIp"] = "0",
        ["Smtp__GreetingTimeout"] = "00:10:00", // the idle clients must stay for the whole test, however slow
    };

    [Fact]
    public async Task Under_a_low_limit_MaxConnections_is_lowered_the_rest_refused_with_bounded_logs_and_the_server_serves_again()
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // prlimit and RLIMIT_NOFILE as tested here are Linux's.
        }

        var work = Directory.CreateTempSubdirectory("starttls-fdlimit-");
        var maildir = Path.Combine(work.FullName, "mail");
        var port = FreePort();
        var endPoint = new IPEndPoint(IPAddress.Loopback, port);
        using var sample = SampleProcess.Start(work.FullName, ["prlimit", "--nofile=400:400", "--"], Settings,
            "--listen", $"127.0.0.1:{port}", "--maildir", maildir, "--no-tls");
        var clients = new List<RawSmtpClient>();
        try
        {
            var warning = await sample.WaitForLineAsync(static l => l.Contains("is lowered to", StringComparison.Ordinal), StartTimeout);
            warning.Should().Contain("The open file limit (RLIMIT_NOFILE) is 400 (hard limit 400)").And.Contain("MaxConnections 1000 is lowered to");
            var effective = int.Parse(LoweredTo().Match(warning).Groups[1].Value, CultureInfo.InvariantCulture);
            effective.Should().BeInRange(1, 400 - 64, "the descriptors open at start and a reserve of 64 come off the limit");
            await sample.WaitForLineAsync(l => l.Contains($"listening on 127.0.0.1:{port}", StringComparison.Ordinal), StartTimeout);

            // Exactly the lowered number of idle connections is served...
            for (var i = 0; i < effective; i++)
            {
                var client = await RawSmtpClient.ConnectAsync(endPoint);
                clients.Add(client);
                (await client.ReadReplyAsync()).Should().StartWith("220 ", "connection {0} of {1}", i + 1, effective);
            }

            // ... the next one is refused with 421, and a burst beyond gets 421 or, past the refusals in flight, a close.
            var elapsed = Stopwatch.StartNew();
            var over = await RawSmtpClient.ConnectAsync(endPoint);
            clients.Add(over);
            (await over.ReadReplyAsync()).Should().Be("421 4.7.0 Too many connections, try again later");
            var burst = new List<RawSmtpClient>();
            for (var i = 0; i < 60; i++)
            {
                burst.Add(await RawSmtpClient.ConnectAsync(endPoint));
            }

            clients.AddRange(burst);
            foreach (var client in burst)
            {
                var line = await client.ReadLineAsync();
                (line is null || line.StartsWith("421 4.7.0", StringComparison.Ordinal)).Should().BeTrue("got '{0}'", line);
            }

            sample.HasExited.Should().BeFalse(sample.Output);
            var intervals = (int)(elapsed.Elapsed / SummaryInterval) + 1;
            sample.Lines.Count(static l => l.Contains("Refused", StringComparison.Ordinal))
                .Should().BeInRange(1, 2 * intervals, "61 refusals are one warning and a summary per interval:\n{0}", sample.Output);
            sample.Lines.Should().NotContain(static l => l.Contains("Accepting a connection", StringComparison.Ordinal),
                "the lowered MaxConnections leaves descriptors to spare");

            await CloseAllAsync(clients);
            await DeliverAsync(endPoint, maildir, sample);
            await StopAsync(sample);
        }
        finally
        {
            await CloseAllAsync(clients);
            sample.KillIfRunning();
            work.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Once the clients have gone the server greets again; the first attempts may still meet the last slots being
    /// released (421) or the accept loop's current delay, so try until a deadline.
    /// </summary>
    private static async Task DeliverAsync(IPEndPoint endPoint, string maildir, SampleProcess sample)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            await using var client = await RawSmtpClient.ConnectAsync(endPoint);
            string greeting;
            try
            {
                greeting = await client.ReadReplyAsync(TimeSpan.FromSeconds(15));
            }
            catch (EndOfStreamException)
            {
                greeting = "(closed)";
            }

            if (!greeting.StartsWith("220 ", StringComparison.Ordinal))
            {
                deadline.Elapsed.Should().BeLessThan(StartTimeout, "the server should serve again once the clients are gone; got '{0}'", greeting);
                continue;
            }

            (await client.EhloAsync()).Should().StartWith("250-");
            (await client.CommandAsync("MAIL FROM:<alice@example.org>")).Should().StartWith("250 2.1.0");
            (await client.CommandAsync("RCPT TO:<bob@example.net>")).Should().StartWith("250 2.1.5");
            (await client.CommandAsync("DATA")).Should().StartWith("354");
            (await client.CommandAsync("Subject: after the storm\r\n\r\nStill here.\r\n.")).Should().StartWith("250 2.0.0");
            (await client.CommandAsync("QUIT")).Should().StartWith("221");
            break;
        }

        Directory.GetFiles(Path.Combine(maildir, "new")).Should().ContainSingle(sample.Output);
        sample.HasExited.Should().BeFalse();
    }

    private static async Task StopAsync(SampleProcess sample)
    {
        sample.SendSigterm();
        (await sample.WaitForExitAsync(ExitTimeout)).Should().BeTrue("output:\n{0}", sample.Output);
        sample.ExitCode.Should().Be(0, "output:\n{0}", sample.Output);
    }

    private static async Task CloseAllAsync(List<RawSmtpClient> clients)
    {
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }

        clients.Clear();
    }

    [GeneratedRegex(@"is lowered to (\d+)")]
    private static partial Regex LoweredTo();
}
