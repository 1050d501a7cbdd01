using System;
using System.IO;
using System.Runtime.CompilerServices;
using Xunit;

namespace StaticRnn.Generators.Tests.Infrastructure;

/// <summary>
/// Compares generated text with a reviewed copy, <c>Snapshots/{name}.verified.cs</c> beside the calling test file.
/// On a difference it writes <c>{name}.received.cs</c> next to it (git-ignored) and fails, naming the first
/// differing line. Run the tests with <c>STATICRNN_ACCEPT_SNAPSHOTS=1</c> to overwrite the verified copies,
/// then review them with <c>git diff</c>.
/// </summary>
public static class Snapshot
{
    public const string AcceptVariable = "STATICRNN_ACCEPT_SNAPSHOTS";

    public static void Match(string actual, string name, [CallerFilePath] string callerPath = "")
    {
        var directory = Path.Combine(Path.GetDirectoryName(callerPath)!, "Snapshots");
        var verifiedPath = Path.Combine(directory, name + ".verified.cs");
        var receivedPath = Path.Combine(directory, name + ".received.cs");
        actual = Normalize(actual);

        if (Environment.GetEnvironmentVariable(AcceptVariable) == "1")
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(verifiedPath, actual);
            File.Delete(receivedPath);
            return;
        }

        if (!File.Exists(verifiedPath))
        {
            Directory.CreateDirectory(directory);
            File.WriteAllText(receivedPath, actual);
            Assert.Fail($"No verified snapshot {verifiedPath}. Review {receivedPath}, then accept it with {AcceptVariable}=1.");
        }

        var expected = Normalize(File.ReadAllText(verifiedPath));
        if (expected == actual)
        {
            File.Delete(receivedPath);
            return;
        }

        File.WriteAllText(receivedPath, actual);
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        var line = 0;
        while (line < Math.Min(expectedLines.Length, actualLines.Length) && expectedLines[line] == actualLines[line])
            line++;
        Assert.Fail(
            $"Generated code differs from {verifiedPath} at line {line + 1}:\n" +
            $"  verified: {(line < expectedLines.Length ? expectedLines[line] : "<end of file>")}\n" +
            $"  received: {(line < actualLines.Length ? actualLines[line] : "<end of file>")}\n" +
            $"The whole output is in {receivedPath}. If the change is intended, rerun with {AcceptVariable}=1 and review the diff.");
    }

    private static string Normalize(string text) => text.Replace("\r\n", "\n");
}
