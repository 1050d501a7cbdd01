using System;

namespace StaticRnn.Generators.Weights;

/// <summary>Reads a weight file in the format its extension names: .safetensors, .npy or .npz.</summary>
internal static class WeightFileReader
{
    /// <summary>
    /// Parses <paramref name="bytes"/>, read from <paramref name="path"/>, by the path's extension (case-insensitive).
    /// A .npy file's one tensor is named after the file name without its extension. Returns the file and a null
    /// <paramref name="error"/>, or null and the first problem found. Never throws.
    /// </summary>
    public static WeightFile? Read(byte[] bytes, string path, out WeightFileError? error)
    {
        path ??= "";
        string fileName = FileName(path);
        int dot = fileName.LastIndexOf('.');
        string extension = dot < 0 ? "" : fileName.Substring(dot);
        if (extension.Equals(".safetensors", StringComparison.OrdinalIgnoreCase))
        {
            return SafeTensorsReader.Read(bytes, out error);
        }

        if (extension.Equals(".npy", StringComparison.OrdinalIgnoreCase))
        {
            return NpyReader.Read(bytes, fileName.Substring(0, dot), out error);
        }

        if (extension.Equals(".npz", StringComparison.OrdinalIgnoreCase))
        {
            return NpzReader.Read(bytes, out error);
        }

        error = new WeightFileError(
            WeightFileErrorKind.UnsupportedFormat,
            $"the file name {SafeTensorsReader.Quote(fileName)} has {(extension.Length == 0 ? "no extension" : "the extension " + SafeTensorsReader.Quote(extension))}; expected .safetensors, .npy or .npz");
        return null;
    }

    /// <summary>The last segment of a path, whichever separator it uses.</summary>
    private static string FileName(string path)
    {
        int slash = Math.Max(path.LastIndexOf('/'), path.LastIndexOf('\\'));
        return path.Substring(slash + 1);
    }
}
