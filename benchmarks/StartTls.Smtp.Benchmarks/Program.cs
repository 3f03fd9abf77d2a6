using BenchmarkDotNet.Running;

namespace StartTls.Smtp.Benchmarks;

/// <summary>Entry point: <c>dotnet run -c Release -- --filter '*'</c> (add <c>--job dry</c> for a smoke run).</summary>
public static class Program
{
    /// <summary>Runs the benchmarks the arguments select; exits 1 when any of them failed, so a CI smoke run catches it.</summary>
    /// <returns>0 when every selected benchmark ran, 1 otherwise.</returns>
    public static int Main(string[] args)
    {
        var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args).ToList();
        var listingOnly = args.Any(static a => a is "--list" or "--help" or "-h" or "--info" or "--version");
        var failed = (summaries.Count == 0 && !listingOnly)
            || summaries.Any(static s => s.HasCriticalValidationErrors || s.Reports.Any(static r => !r.Success));
        if (failed)
        {
            Console.Error.WriteLine("error: a benchmark failed to build or run (see above).");
        }

        return failed ? 1 : 0;
    }
}
