namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>
/// The one policy for a command-line program a test needs (swaks, python3, openssl, gsasl, prlimit, kill): found on
/// PATH it is used; missing, the test is skipped with the reason, except in CI (<c>CI=true</c>), where .ci/run installs
/// every tool and a missing one fails the test with the apt package to add. Tests that use a tool are
/// <c>[SkippableFact]</c> or <c>[SkippableTheory]</c>, so the skip is reported as a skip.
/// </summary>
public static class MissingTool
{
    /// <summary>The Debian package that provides each tool whose package name differs from the tool's own.</summary>
    private static readonly Dictionary<string, string> AptPackages = new(StringComparer.Ordinal)
    {
        ["prlimit"] = "util-linux",
        ["kill"] = "procps",
        ["chromedriver"] = "chromium-driver",
        ["smtp-source"] = "postfix",
    };

    /// <summary>True when running in CI, where a missing tool is a failure rather than a skip.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The Debian package that installs <paramref name="tool"/>.</summary>
    public static string AptPackage(string tool) => AptPackages.GetValueOrDefault(tool, tool);

    /// <summary>The full path of <paramref name="tool"/> on PATH, or null.</summary>
    public static string? Find(string tool)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, tool);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// The full path of <paramref name="tool"/>. Missing, it skips the test (throws <see cref="SkipException"/>) or,
    /// in CI, fails it.
    /// </summary>
    public static string Require(string tool)
    {
        if (Find(tool) is { } path)
        {
            return path;
        }

        var reason = $"'{tool}' is not installed on this machine (apt-get install -y {AptPackage(tool)})";
        Skip.If(!IsCi, reason + ".");
        throw new InvalidOperationException(reason + "; in CI a missing tool fails the test: add the package to .ci/run.");
    }
}
