namespace StartTls.Smtp.Tests.Samples;

/// <summary>
/// Every C# block in README.md and in the package README (src/StartTls.Smtp/PACKAGE.md) is the text of a region in a
/// sample that the solution builds, so a snippet that stops compiling breaks the build, and one that drifts from the
/// sample fails here.
/// </summary>
public sealed class ReadmeSnippetTests
{
    private static readonly DirectoryInfo Root = ReadmeSnippets.RepositoryRoot();

    public static TheoryData<string> Documents => new() { "README.md", Path.Combine("src", "StartTls.Smtp", "PACKAGE.md") };

    [Theory]
    [MemberData(nameof(Documents))]
    public void Every_csharp_block_is_a_region_of_a_built_sample(string document)
    {
        var blocks = ReadmeSnippets.CodeBlocks(File.ReadAllText(Path.Combine(Root.FullName, document)), "csharp");
        var regions = SampleRegions();

        blocks.Should().NotBeEmpty();
        foreach (var block in blocks)
        {
            regions.Values.Should().Contain(block, $"this {document} block must be a // <readme:NAME> region of a sample:\n{block}");
        }
    }

    [Fact]
    public void Every_region_is_shown_in_the_README()
    {
        var blocks = ReadmeSnippets.CodeBlocks(File.ReadAllText(Path.Combine(Root.FullName, "README.md")), "csharp");

        // install, store, filter, generic-host, without-host, serve, auth
        blocks.Should().HaveCountGreaterThanOrEqualTo(7);
        foreach (var (name, text) in SampleRegions())
        {
            blocks.Should().Contain(text, $"the region readme:{name} exists so that the README shows it");
        }
    }

    [Fact]
    public void The_samples_holding_regions_are_built_by_the_solution()
    {
        var solution = File.ReadAllText(Path.Combine(Root.FullName, "StartTls.Smtp.sln"));
        var projects = SampleFiles()
            .Where(f => ReadmeSnippets.Regions(File.ReadAllText(f)).Count > 0)
            .Select(ProjectOf)
            .Distinct()
            .ToList();

        projects.Should().NotBeEmpty();
        foreach (var project in projects)
        {
            solution.Should().Contain(Path.GetRelativePath(Root.FullName, project).Replace('/', '\\'));
        }
    }

    [Fact]
    public void The_README_starts_with_the_two_commands()
    {
        var blocks = ReadmeSnippets.CodeBlocks(File.ReadAllText(Path.Combine(Root.FullName, "README.md")), "sh");

        blocks[0].Should().Be("dotnet run --project samples/StartTls.Smtp.Server\ndotnet test StartTls.Smtp.sln");
    }

    [Fact]
    public void A_region_in_parts_is_dedented_and_joined_with_a_blank_line()
    {
        const string source = """
            // <readme:x>
            using A;
            // </readme:x>
            namespace N;
            static class C
            {
                static void M()
                {
                    // <readme:x>
                    if (true)
                    {
                        Go();
                    }
                    // </readme:x>
                }
            }
            """;

        ReadmeSnippets.Regions(source).Should().Equal(new Dictionary<string, string>
        {
            ["x"] = "using A;\n\nif (true)\n{\n    Go();\n}",
        });
    }

    [Fact]
    public void Blocks_in_other_languages_are_left_out_and_an_unclosed_region_is_an_error()
    {
        ReadmeSnippets.CodeBlocks("```sh\nls\n```\ntext\n```csharp\n  var x = 1;\n```\n", "csharp")
            .Should().Equal("var x = 1;");
        var unclosed = () => ReadmeSnippets.Regions("// <readme:x>\nvar x = 1;\n");
        unclosed.Should().Throw<FormatException>();
    }

    private static Dictionary<string, string> SampleRegions()
    {
        var regions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in SampleFiles())
        {
            foreach (var (name, text) in ReadmeSnippets.Regions(File.ReadAllText(file)))
            {
                regions.Add(name, text); // a name is used once across the samples
            }
        }

        return regions;
    }

    private static IEnumerable<string> SampleFiles()
    {
        var separator = Path.DirectorySeparatorChar;
        return Directory.EnumerateFiles(Path.Combine(Root.FullName, "samples"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{separator}bin{separator}", StringComparison.Ordinal)
                && !f.Contains($"{separator}obj{separator}", StringComparison.Ordinal));
    }

    private static string ProjectOf(string file)
    {
        for (var dir = new FileInfo(file).Directory; dir is not null; dir = dir.Parent)
        {
            var project = dir.GetFiles("*.csproj").FirstOrDefault();
            if (project is not null)
            {
                return project.FullName;
            }
        }

        throw new InvalidOperationException($"No project holds {file}");
    }
}
