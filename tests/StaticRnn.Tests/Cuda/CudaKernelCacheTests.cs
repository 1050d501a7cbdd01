using System;
using System.Collections.Generic;
using System.IO;
using StaticRnn.Cuda;
using Xunit;

namespace StaticRnn.Tests.Cuda;

/// <summary>What NVRTC compiles for, and the disk cache's key and directory.</summary>
public class CudaKernelCacheTests
{
    // NVRTC 13.0's list is of this shape: ascending, with gaps.
    private static readonly int[] s_supported = [75, 80, 86, 87, 89, 90, 100, 103, 120, 121];

    [Fact]
    public void Supported_architectures_get_a_cubin_for_the_device_itself()
    {
        var target = CudaKernelCache.ChooseTarget(9, 0, s_supported, "13.0");
        Assert.Equal(new CudaKernelCache.CompileTarget(90, Ptx: false), target);
        Assert.Equal("--gpu-architecture=sm_90", target.Option);
        Assert.Equal(["--gpu-architecture=sm_90", "-std=c++17", "-default-device"], CudaKernelCache.CompileOptions(target));
        Assert.DoesNotContain("--use_fast_math", CudaKernelCache.CompileOptions(target));
        // An unknown list (empty) trusts the device's own architecture.
        Assert.Equal(new CudaKernelCache.CompileTarget(86, Ptx: false), CudaKernelCache.ChooseTarget(8, 6, [], "13.0"));
    }

    [Fact]
    public void Devices_newer_than_nvrtc_get_ptx_for_the_newest_architecture_below()
    {
        var newer = CudaKernelCache.ChooseTarget(13, 0, s_supported, "13.0");
        Assert.Equal(new CudaKernelCache.CompileTarget(121, Ptx: true), newer);
        Assert.Equal("--gpu-architecture=compute_121", newer.Option);
        // An architecture inside the range that NVRTC does not list: PTX from the one below.
        Assert.Equal(new CudaKernelCache.CompileTarget(90, Ptx: true), CudaKernelCache.ChooseTarget(9, 5, s_supported, "13.0"));
    }

    [Fact]
    public void Devices_older_than_nvrtc_supports_are_unavailable_with_a_reason()
    {
        var e = Assert.Throws<CudaUnavailableException>(() => CudaKernelCache.ChooseTarget(6, 1, s_supported, "13.0"));
        Assert.Contains("compute capability 6.1 (sm_61)", e.Message);
        Assert.Contains("NVRTC 13.0 compiles for sm_75 and newer", e.Message);
    }

    [Fact]
    public void Cache_key_is_stable_and_changes_with_source_options_and_nvrtc_version()
    {
        const string source = "extern \"C\" __global__ void k(const float* w, const void* x, float* y, float* s, int n) {}";
        string[] options = ["--gpu-architecture=sm_90", "-std=c++17", "-default-device"];
        var key = CudaKernelCache.CacheKey(source, options, "13.0");
        Assert.Matches("^[0-9a-f]{64}$", key);
        Assert.Equal(key, CudaKernelCache.CacheKey(source, [.. options], "13.0"));

        var others = new HashSet<string>
        {
            key,
            CudaKernelCache.CacheKey(source + " ", options, "13.0"),
            CudaKernelCache.CacheKey(source, ["--gpu-architecture=sm_80", "-std=c++17", "-default-device"], "13.0"),
            CudaKernelCache.CacheKey(source, ["--gpu-architecture=compute_90", "-std=c++17", "-default-device"], "13.0"),
            CudaKernelCache.CacheKey(source, options, "13.1"),
            CudaKernelCache.CacheKey(source, options, "12.9"),
            // The length prefixes keep text moving between fields from hashing the same bytes.
            CudaKernelCache.CacheKey("-default-device" + source, ["--gpu-architecture=sm_90", "-std=c++17"], "13.0"),
        };
        Assert.Equal(7, others.Count);
    }

    [Fact]
    public void Cache_directory_is_the_option_then_the_variable_then_local_application_data()
    {
        var local = Path.Combine(Path.GetTempPath(), "local");
        Func<string, string?> none = _ => null;
        Func<string, string?> variable = name => name == "STATICRNN_CUDA_CACHE" ? "/var/cache/rnn" : null;
        Func<string, string?> emptyVariable = name => name == "STATICRNN_CUDA_CACHE" ? "" : null;

        Assert.Equal("/my/cache", CudaKernelCache.CacheDirectory("/my/cache", variable, local));
        Assert.Equal("/var/cache/rnn", CudaKernelCache.CacheDirectory(null, variable, local));
        Assert.Equal(Path.Combine(local, "StaticRnn", "cuda"), CudaKernelCache.CacheDirectory(null, none, local));
        // Empty disables, wherever it comes from; so does having no application data folder.
        Assert.Null(CudaKernelCache.CacheDirectory("", variable, local));
        Assert.Null(CudaKernelCache.CacheDirectory(null, emptyVariable, local));
        Assert.Null(CudaKernelCache.CacheDirectory(null, none, ""));
    }

    [Fact]
    public void A_cache_file_reaches_the_driver_only_whole_and_unaltered()
    {
        var directory = Directory.CreateTempSubdirectory("staticrnn-cache-test-");
        try
        {
            var path = Path.Combine(directory.FullName, "k.cubin");
            var image = new byte[1000];
            new Random(3).NextBytes(image);
            CudaKernelCache.TryWrite(path, image);
            Assert.Equal(image, CudaKernelCache.TryRead(path, ptx: false));

            // Cut short: rejected, and the file deleted so the next compile replaces it.
            File.WriteAllBytes(path, File.ReadAllBytes(path)[..^10]);
            Assert.Null(CudaKernelCache.TryRead(path, ptx: false));
            Assert.False(File.Exists(path));

            // One byte changed.
            CudaKernelCache.TryWrite(path, image);
            var altered = File.ReadAllBytes(path);
            altered[500] ^= 1;
            File.WriteAllBytes(path, altered);
            Assert.Null(CudaKernelCache.TryRead(path, ptx: false));

            // PTX must end with its NUL.
            var ptx = "// PTX\n"u8.ToArray();
            CudaKernelCache.TryWrite(path, ptx);
            Assert.Null(CudaKernelCache.TryRead(path, ptx: true));
            CudaKernelCache.TryWrite(path, [.. ptx, 0]);
            Assert.Equal((byte[])[.. ptx, 0], CudaKernelCache.TryRead(path, ptx: true));
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
