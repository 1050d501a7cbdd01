using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using StaticRnn.Generators.Diagnostics;
using Xunit;

namespace StaticRnn.Generators.Tests.Diagnostics;

/// <summary>The descriptor table, the analyzer release file and the README's diagnostics table list the same IDs.</summary>
public class DescriptorTableTests
{
    private static string RepositoryFile(string relativePath, [CallerFilePath] string callerPath = "") =>
        File.ReadAllText(Path.Combine(Path.GetDirectoryName(callerPath)!, "..", "..", "..", relativePath));

    [Fact]
    public void Every_diagnostic_is_in_the_release_file_and_the_README_with_its_title()
    {
        var releases = RepositoryFile("generators/StaticRnn.Generators/AnalyzerReleases.Unshipped.md");
        var readme = RepositoryFile("README.md");
        var ids = DiagnosticDescriptors.All.Select(d => d.Id).Order().ToArray();

        Assert.True(ids.Length >= 20, $"expected the full table, found {ids.Length} descriptors");
        foreach (var descriptor in DiagnosticDescriptors.All)
        {
            Assert.Contains($"{descriptor.Id} | StaticRnn | Error | {descriptor.Title}", releases);
            Assert.Contains($"| {descriptor.Id} |", readme);
        }
        var listed = System.Text.RegularExpressions.Regex.Matches(readme, @"\| (SRNN\d{4}) \|").Select(m => m.Groups[1].Value).Order().ToArray();
        Assert.Equal(ids, listed);
    }
}
