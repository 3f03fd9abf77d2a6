using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace StartTls.Smtp.Benchmarks.Infrastructure;

/// <summary>Input megabytes (10^6 bytes) per second, from the mean time and the byte count held in an integer parameter.</summary>
internal sealed class ThroughputColumn : IColumn
{
    private readonly string _sizeParameter;

    public ThroughputColumn(string sizeParameter) => _sizeParameter = sizeParameter;

    public string Id => nameof(ThroughputColumn) + "." + _sizeParameter;

    public string ColumnName => "MB/s";

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory => 0;

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend => $"Input megabytes (10^6 bytes) processed per second: {_sizeParameter} / Mean";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        if (mean is not > 0 || benchmarkCase.Parameters[_sizeParameter] is not int size)
        {
            return "NA";
        }

        return (size / (mean.Value / 1e9) / 1e6).ToString("N0", CultureInfo.InvariantCulture);
    }

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public bool IsAvailable(Summary summary) => true;
}
