using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Security.Cryptography;
using System.Text;

namespace StaticRnn.Cuda;

/// <summary>
/// Compiles a kernel with NVRTC for the device at hand and loads it, keeping the compiled image on disk so later
/// processes skip the compile. The cache is an optimization only: an unreadable, unwritable or corrupt cache never
/// fails scoring, it just means compiling again.
/// </summary>
internal static class CudaKernelCache
{
    internal const string CacheVariable = "STATICRNN_CUDA_CACHE";

    /// <summary>What NVRTC compiles to: a CUBIN for <c>sm_XY</c>, or PTX for <c>compute_XY</c> that the driver
    /// compiles for the device when it loads it.</summary>
    internal readonly record struct CompileTarget(int Architecture, bool Ptx)
    {
        public string Name => (Ptx ? "compute_" : "sm_") + Architecture.ToString(CultureInfo.InvariantCulture);

        public string Option => "--gpu-architecture=" + Name;
    }

    /// <summary>
    /// The device's own architecture when NVRTC supports it (a CUBIN: nothing left to compile at load time).
    /// Otherwise PTX for the newest supported architecture below the device's, which the driver can compile for
    /// any newer device, e.g. a GPU released after this NVRTC.
    /// </summary>
    /// <param name="major">The device's compute capability, major part.</param>
    /// <param name="minor">Its minor part.</param>
    /// <param name="supported">nvrtcGetSupportedArchs's answer, ascending; empty means unknown.</param>
    /// <param name="nvrtcVersion">For the message when the device is too old for this NVRTC.</param>
    internal static CompileTarget ChooseTarget(int major, int minor, ReadOnlySpan<int> supported, string nvrtcVersion)
    {
        var device = 10 * major + minor;
        if (supported.IsEmpty || supported.Contains(device))
            return new CompileTarget(device, Ptx: false);
        var best = -1;
        foreach (var architecture in supported)
        {
            if (architecture < device && architecture > best)
                best = architecture;
        }
        if (best < 0)
        {
            throw CudaUnavailableException.Unsupported(
                $"The CUDA device has compute capability {major}.{minor} (sm_{device}); NVRTC {nvrtcVersion} compiles for " +
                $"sm_{supported[0]} and newer only. Use an older CUDA Toolkit's NVRTC (set STATICRNN_NVRTC to it) or a newer GPU.");
        }
        return new CompileTarget(best, Ptx: true);
    }

    /// <summary>NVRTC's options: no --use_fast_math, whose approximate exp and division would break agreement with
    /// the CPU models within 1e-5.</summary>
    internal static string[] CompileOptions(CompileTarget target) => [target.Option, "-std=c++17", "-default-device"];

    /// <summary>The cache file's name without extension: SHA-256 (hex) over the format version, NVRTC's version, the
    /// options (which name the architecture and CUBIN or PTX) and the source, each length-prefixed so that no two
    /// different inputs hash the same bytes.</summary>
    internal static string CacheKey(string source, IReadOnlyList<string> options, string nvrtcVersion)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, "StaticRnn CUDA kernel cache 2");
        Append(hash, nvrtcVersion);
        Append(hash, options.Count.ToString(CultureInfo.InvariantCulture));
        foreach (var option in options)
            Append(hash, option);
        Append(hash, source);
        return Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();

        static void Append(IncrementalHash hash, string text)
        {
            var bytes = Encoding.UTF8.GetBytes(text);
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(length, bytes.Length);
            hash.AppendData(length);
            hash.AppendData(bytes);
        }
    }

    /// <summary>The cache directory, or null when caching is off: the configured directory, else the
    /// STATICRNN_CUDA_CACHE variable, else StaticRnn/cuda under <paramref name="localApplicationData"/>. An empty
    /// configured or environment value turns the cache off.</summary>
    internal static string? CacheDirectory(string? configured, Func<string, string?> environment, string localApplicationData)
    {
        if (configured is not null)
            return configured.Length == 0 ? null : configured;
        if (environment(CacheVariable) is { } variable)
            return variable.Length == 0 ? null : variable;
        return string.IsNullOrEmpty(localApplicationData) ? null : Path.Combine(localApplicationData, "StaticRnn", "cuda");
    }

    internal static string? DefaultCacheDirectory(string? configured) =>
        CacheDirectory(configured, Environment.GetEnvironmentVariable,
            Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData));

    /// <summary>Loads <paramref name="kernel"/> into the current context as a CUmodule, from the cache when it holds
    /// a good image, else compiled now (and then cached). The caller owns the module.</summary>
    internal static nint LoadModule(CudaKernelDefinition kernel, int major, int minor, string? cacheDirectory)
    {
        NativeLibraryProbe.RequireNvrtc();
        var version = Nvrtc.Version();
        var target = ChooseTarget(major, minor, Nvrtc.SupportedArchitectures(), version);
        var options = CompileOptions(target);
        var path = cacheDirectory is null
            ? null
            : Path.Combine(cacheDirectory, CacheKey(kernel.Source + "\n" + CudaHeader.Text, options, version) + (target.Ptx ? ".ptx" : ".cubin"));

        if (path is not null && TryRead(path, target.Ptx) is { } cached)
        {
            if (TryLoad(cached, out var module) == CudaDriver.CUDA_SUCCESS)
                return module;
            // Truncated, corrupt, or made by a driver that no longer takes it: compile afresh and replace it.
            TryDelete(path);
        }

        var image = Nvrtc.Compile(kernel.Source, kernel.EntryPoint + ".cu", kernel.EntryPoint, target.Option, options, target.Ptx,
            CudaHeader.Name, CudaHeader.Text);
        var result = TryLoad(image, out var compiled);
        if (result != CudaDriver.CUDA_SUCCESS)
        {
            var hint = result == 222 // CUDA_ERROR_UNSUPPORTED_PTX_VERSION
                ? $"NVRTC {version} is newer than this NVIDIA driver: update the driver, or use an NVRTC no newer than the driver's CUDA version."
                : null;
            CudaDriver.Check(result, "cuModuleLoadData", hint);
        }
        if (path is not null)
            TryWrite(path, image);
        return compiled;
    }

    private static unsafe int TryLoad(byte[] image, out nint module)
    {
        fixed (byte* pointer = image)
            return CudaDriver.cuModuleLoadData(out module, pointer);
    }

    /// <summary>The cached image, or null when there is none or it is damaged (then the file is deleted). A cache file
    /// is the image's SHA-256 followed by the image: cuModuleLoadData takes no length, so a truncated or altered
    /// image must never reach the driver.</summary>
    internal static byte[]? TryRead(string path, bool ptx)
    {
        try
        {
            if (!File.Exists(path))
                return null;
            var file = File.ReadAllBytes(path);
            var image = file.Length > HashBytes ? file[HashBytes..] : [];
            // PTX is handed to the driver as a C string: without its NUL the file was cut short.
            if (image.Length == 0 || (ptx && image[^1] != 0) || !SHA256.HashData(image).AsSpan().SequenceEqual(file.AsSpan(0, HashBytes)))
            {
                TryDelete(path);
                return null;
            }
            return image;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private const int HashBytes = 32;

    // Written to a temporary file and renamed over the target, so a reader sees the old file or the whole new one.
    internal static void TryWrite(string path, byte[] image)
    {
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllBytes(temporary, [.. SHA256.HashData(image), .. image]);
            File.Move(temporary, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            TryDelete(temporary);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another process may hold it; the next write replaces it anyway.
        }
    }
}
