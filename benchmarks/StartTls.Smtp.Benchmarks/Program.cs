using BenchmarkDotNet.Running;

namespace StartTls.Smtp.Benchmarks;

/// <summary>Entry point: <c>dotnet run -c Release -- --filter '*'</c> (add <c>--job dry</c> for a smoke run).</summary>
public static class Program
{
    /// <summary>Runs the benchmarks the arguments select.</summary>
    public static void Main(string[] args) => BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
}
