// The end-to-end load tool. `--help` lists the options; benchmarks/LOAD.md says how the comparison uses it.
using StartTls.Smtp.LoadTest;

if (args.Length > 0 && args[0] == "summarize")
{
    if (args.Length is not (2 or 4) || (args.Length == 4 && args[2] != "--peer"))
    {
        Console.Error.WriteLine("usage: StartTls.Smtp.LoadTest summarize RESULTS.jsonl [--peer theirs|kestrel]");
        return 2;
    }

    return ComparisonSummary.Print(args[1], Console.Out, args.Length == 4 ? args[3] : "theirs");
}

var parsed = LoadOptions.Parse(args);
if (parsed.ShowHelp)
{
    Console.Out.Write(LoadOptions.Usage);
    return 0;
}

if (parsed.Options is not { } options)
{
    Console.Error.WriteLine($"error: {parsed.Error}");
    Console.Error.WriteLine("Run with --help for the list of options.");
    return 2;
}

var result = await LoadRun.RunAsync(options);
Console.Out.WriteLine(result.HumanLine());
var json = result.ToJson();
Console.Out.WriteLine(json);
if (options.Output is not null)
{
    await File.AppendAllTextAsync(options.Output, json + "\n");
}

return result.Ok > 0 && result.Failed == 0 && !result.TimedOut ? 0 : 1;
