using System.Text;
using System.Text.RegularExpressions;

namespace StartTls.Smtp.Tests.Samples;

/// <summary>
/// The C# code blocks of a Markdown file, and the regions of sample source files that hold the same code.
/// A region is marked <c>// &lt;readme:NAME&gt;</c> … <c>// &lt;/readme:NAME&gt;</c>; a name may mark several parts of
/// one file (the usings at the top, then a class or a method body), which are joined with one blank line. Each part
/// loses its common indentation, so code in a method body can stand as top-level statements in the README.
/// </summary>
internal static partial class ReadmeSnippets
{
    /// <summary>The repository root: the directory holding StartTls.Smtp.sln, found upwards from the test assembly.</summary>
    public static DirectoryInfo RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "StartTls.Smtp.sln")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException($"No StartTls.Smtp.sln above {AppContext.BaseDirectory}");
    }

    /// <summary>The contents of every fenced block with the given info string (e.g. <c>csharp</c>), trimmed, LF line endings.</summary>
    public static IReadOnlyList<string> CodeBlocks(string markdown, string language)
    {
        var blocks = new List<string>();
        StringBuilder? current = null;
        foreach (var line in Lines(markdown))
        {
            if (current is null)
            {
                if (line.StartsWith("```", StringComparison.Ordinal))
                {
                    var info = line[3..].Trim();
                    current = new StringBuilder();
                    if (info != language)
                    {
                        current.Append('\0'); // a block in another language: read over it, keep nothing
                    }
                }
            }
            else if (line.TrimEnd() == "```")
            {
                if (current.Length == 0 || current[0] != '\0')
                {
                    blocks.Add(current.ToString().Trim('\n', ' ', '\t'));
                }

                current = null;
            }
            else
            {
                current.Append(line).Append('\n');
            }
        }

        if (current is not null)
        {
            throw new FormatException("A fenced code block is not closed.");
        }

        return blocks;
    }

    /// <summary>The regions of one source file by name: each region's parts, dedented and joined with one blank line.</summary>
    public static IReadOnlyDictionary<string, string> Regions(string source)
    {
        var parts = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        string? open = null;
        List<string>? lines = null;
        foreach (var line in Lines(source))
        {
            var marker = RegionMarker().Match(line);
            if (!marker.Success)
            {
                lines?.Add(line);
                continue;
            }

            var name = marker.Groups["name"].Value;
            var closing = marker.Groups["close"].Success;
            if (!closing && open is null)
            {
                open = name;
                lines = [];
            }
            else if (closing && open == name)
            {
                if (!parts.TryGetValue(name, out var list))
                {
                    parts[name] = list = [];
                }

                list.Add(Dedent(lines!));
                open = null;
                lines = null;
            }
            else
            {
                throw new FormatException($"Unbalanced region marker: {line.Trim()}");
            }
        }

        if (open is not null)
        {
            throw new FormatException($"Region readme:{open} is not closed.");
        }

        return parts.ToDictionary(p => p.Key, p => string.Join("\n\n", p.Value), StringComparer.Ordinal);
    }

    private static string Dedent(List<string> lines)
    {
        var indent = lines.Where(l => l.Trim().Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return string.Join("\n", lines.Select(l => l.Length >= indent ? l[indent..] : l.TrimStart()).Select(l => l.TrimEnd()))
            .Trim('\n');
    }

    private static string[] Lines(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');

    [GeneratedRegex(@"^\s*// <(?<close>/)?readme:(?<name>[a-z0-9-]+)>\s*$")]
    private static partial Regex RegionMarker();
}
