using System;
using System.IO;

namespace StaticRnn.Cuda;

/// <summary>staticrnn.cuh, the layer templates that every generated kernel includes (embedded in this assembly).
/// The generator writes only the network; the templates ship with the runtime that compiles it.</summary>
internal static class CudaHeader
{
    public const string Name = "staticrnn.cuh";

    private static string? s_text;

    public static string Text => s_text ??= Read();

    private static string Read()
    {
        using var stream = typeof(CudaHeader).Assembly.GetManifestResourceStream("StaticRnn.Cuda." + Name)
            ?? throw new InvalidOperationException($"The StaticRnn assembly lacks its embedded {Name}.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
