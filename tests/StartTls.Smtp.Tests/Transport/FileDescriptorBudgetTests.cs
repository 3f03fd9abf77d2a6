using System.Globalization;
using StartTls.Smtp.Tests.Authentication;
using StartTls.Smtp.Transport;

using StartTls.Smtp.Protocol;

using StartTls.Smtp.Tests.Infrastructure;

namespace StartTls.Smtp.Tests.Transport;

/// <summary>
/// The start-up check of MaxConnections against RLIMIT_NOFILE: what fits, the limit as the kernel reports it, and the
/// limiter applying the lowered maximum. (The whole path under a real low limit: FileDescriptorLimitProcessTests.)
/// </summary>
public sealed class FileDescriptorBudgetTests
{
    [Theory]
    [InlineData(1000, 1024, 134, 826)] // the sample server under a hard limit of 1024
    [InlineData(1000, 1_048_576, 134, 1000)]
    [InlineData(1000, long.MaxValue, 134, 1000)] // unlimited
    [InlineData(826, 1024, 134, 826)] // exactly fits
    [InlineData(1000, 200, 134, 2)]
    [InlineData(1000, 100, 134, 1)] // nothing fits: still serve one
    public void MaxConnections_is_lowered_to_what_the_limit_leaves_after_the_open_descriptors_and_the_reserve(
        int configured, long softLimit, int open, int expected)
        => FileDescriptorBudget.EffectiveMaxConnections(configured, softLimit, open).Should().Be(expected);

    [Fact]
    public void The_limit_read_is_the_one_the_kernel_reports()
    {
        if (!OperatingSystem.IsLinux())
        {
            FileDescriptorBudget.TryGetLimit(out _, out _).Should().Be(OperatingSystem.IsMacOS());
            return;
        }

        FileDescriptorBudget.TryGetLimit(out var soft, out var hard).Should().BeTrue();
        var line = File.ReadAllLines("/proc/self/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        soft.Should().Be(Parse(fields[0]));
        hard.Should().Be(Parse(fields[1]));
        FileDescriptorBudget.CountOpen().Should().BeGreaterThan(3).And.BeLessThan((int)Math.Min(soft, int.MaxValue));

        static long Parse(string value) => value == "unlimited" ? long.MaxValue : long.Parse(value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public void A_lowered_maximum_is_the_one_the_limiter_applies_and_it_is_never_raised()
    {
        var limiter = new ConnectionLimiter(maxConnections: 10, maxPerAddress: 0);
        limiter.LowerMaxConnections(2);
        limiter.LowerMaxConnections(5);
        limiter.MaxConnections.Should().Be(2);

        limiter.TryAcquire(null).Should().Be(LimitResult.Accepted);
        limiter.TryAcquire(null).Should().Be(LimitResult.Accepted);
        limiter.TryAcquire(null).Should().Be(LimitResult.TooManyConnections);
    }

    [Fact]
    public async Task A_server_within_the_limit_keeps_its_MaxConnections_and_says_so_at_debug_level()
    {
        if (!FileDescriptorBudget.TryGetLimit(out var soft, out _) || soft < 1000)
        {
            return; // the test process itself runs under a low limit; the process tests cover that case
        }

        var logs = new LogCapture();
        await using var server = await Infrastructure.TestServer.StartAsync(o => o.MaxConnections = 5, loggerFactory: logs);
        server.Server.Limiter.MaxConnections.Should().Be(5);
        logs.Lines.Should().ContainSingle(l => l.Contains("[7] The open file limit (RLIMIT_NOFILE) is ", StringComparison.Ordinal)
            && l.Contains("room for MaxConnections 5", StringComparison.Ordinal));
    }
}
