namespace StartTls.Smtp.Tests.Infrastructure;

/// <summary>The outcome of running an external program.</summary>
public sealed record ProcessResult(int ExitCode, string StandardOutput, string StandardError)
{
    public override string ToString() => $"exit code {ExitCode}\n--- stdout\n{StandardOutput}\n--- stderr\n{StandardError}";
}

/// <summary>Runs installed command-line clients (swaks, python3) against the test server; a thin face over <see cref="CliTool"/>.</summary>
public static class ExternalTool
{
    /// <summary>The full path of <paramref name="name"/> on PATH; throws (the test fails) with <paramref name="installHint"/> when it is missing.</summary>
    public static string Require(string name, string installHint)
        => CliTool.Find(name) ?? throw new InvalidOperationException($"'{name}' is not installed: {installHint}");

    /// <summary>Runs <paramref name="fileName"/> with <paramref name="arguments"/>, stdin closed, and collects its output; kills it after <paramref name="timeout"/>.</summary>
    public static async Task<ProcessResult> RunAsync(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        var result = await CliTool.RunAsync(fileName, arguments, standardInput: null, timeout);
        return new ProcessResult(result.ExitCode, result.StandardOutput, result.StandardError);
    }
}
