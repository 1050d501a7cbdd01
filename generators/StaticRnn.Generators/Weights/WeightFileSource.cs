using System;
using System.Collections.Immutable;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Threading;
using Microsoft.CodeAnalysis;

// The one place the generator touches the file system. Roslyn offers no binary API for AdditionalFiles, and
// AdditionalText.GetText() would decode a binary file as text (CS2015), so weight files are read by path.
// Everything read is keyed by its SHA-256, so the incremental pipeline reruns exactly when the bytes change.
#pragma warning disable RS1035 // Do not use APIs banned for analyzers

namespace StaticRnn.Generators.Weights;

/// <summary>A weight file among the AdditionalFiles: its path, the hash of its bytes, and the bytes (or why they
/// could not be read), and the name under which the build embeds it in the assembly, if it does. Equal when
/// everything but the bytes is: the hash stands for them.</summary>
internal sealed record WeightFileInput(string Path, string Hash, byte[]? Bytes, string? ReadError, string? ResourceName)
{
    public bool Equals(WeightFileInput? other) =>
        other is not null && Path == other.Path && Hash == other.Hash && ReadError == other.ReadError && ResourceName == other.ResourceName;

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Path) ^ StringComparer.Ordinal.GetHashCode(Hash);
}

/// <summary>Finds and reads weight files.</summary>
internal static class WeightFileSource
{
    public static readonly ImmutableArray<string> Extensions = ImmutableArray.Create(".safetensors", ".npy", ".npz", ".onnx");

    public static bool IsWeightFile(AdditionalText text) =>
        Extensions.Any(e => text.Path.EndsWith(e, StringComparison.OrdinalIgnoreCase)) || IsCompanion(text.Path);

    /// <summary>An ONNX model's external data (PyTorch writes <c>model.onnx.data</c> beside <c>model.onnx</c>): read only
    /// for the .onnx model beside it.</summary>
    public static bool IsCompanion(string path) => path.EndsWith(".onnx.data", StringComparison.OrdinalIgnoreCase);

    /// <param name="text">The AdditionalFiles item.</param>
    /// <param name="resourceName">Its StaticRnnResource metadata: the embedded resource's name (StaticRnn.props).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    public static WeightFileInput Load(AdditionalText text, string? resourceName, CancellationToken cancellationToken)
    {
        resourceName = string.IsNullOrEmpty(resourceName) ? null : resourceName;
        try
        {
            var bytes = File.ReadAllBytes(text.Path);
            cancellationToken.ThrowIfCancellationRequested();
            return new WeightFileInput(text.Path, Sha256(bytes), bytes, null, resourceName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException or ArgumentException or System.Security.SecurityException)
        {
            return new WeightFileInput(text.Path, "", null, e.Message, resourceName);
        }
    }

    /// <summary>The full path the attribute's path names: relative paths are relative to the project directory.</summary>
    public static string? FullPath(string declaredPath, string? projectDirectory)
    {
        try
        {
            var path = declaredPath.Replace('\\', '/');
            if (System.IO.Path.IsPathRooted(path))
                return System.IO.Path.GetFullPath(path);
            return projectDirectory is null ? null : System.IO.Path.GetFullPath(System.IO.Path.Combine(projectDirectory, path));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException or System.Security.SecurityException)
        {
            return null;
        }
    }

    /// <summary>Says whether a file exists at <paramref name="fullPath"/>, only to word the "not found" diagnostic.</summary>
    public static bool ExistsOnDisk(string? fullPath)
    {
        try
        {
            return fullPath is not null && File.Exists(fullPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException or System.Security.SecurityException)
        {
            return false;
        }
    }

    /// <summary>Whether two paths name the same file. AdditionalFiles items can reach the compiler with
    /// <c>..</c> segments (<c>Include="..\models\m.safetensors"</c>), so both sides are made full first.</summary>
    public static bool SamePath(string a, string b) =>
        string.Equals(Normalize(FullPathOrSelf(a)), Normalize(FullPathOrSelf(b)),
            System.IO.Path.DirectorySeparatorChar == '\\' ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    private static string FullPathOrSelf(string path)
    {
        try
        {
            return System.IO.Path.GetFullPath(path);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException or System.Security.SecurityException)
        {
            return path;
        }
    }

    public static string Normalize(string path) => path.Replace('\\', '/');

    private static string Sha256(byte[] bytes)
    {
        using var sha = SHA256.Create();
        return string.Concat(sha.ComputeHash(bytes).Select(b => b.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
    }
}
