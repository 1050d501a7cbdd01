using System;
using System.Collections.Generic;
using System.IO;
using System.Runtime.InteropServices;
using StaticRnn.Cuda;
using Xunit;

namespace StaticRnn.Tests.Cuda;

/// <summary>Where the CUDA driver and NVRTC are looked for, checked against a fake environment.</summary>
public class NativeLibraryProbeTests
{
    private static Func<string, string?> Environment(params (string Name, string Value)[] variables)
    {
        var map = new Dictionary<string, string>();
        foreach (var (name, value) in variables)
            map[name] = value;
        return name => map.TryGetValue(name, out var value) ? value : null;
    }

    [Fact]
    public void Driver_candidates_are_the_override_then_the_driver_names()
    {
        Assert.Equal(["libcuda.so.1", "libcuda.so"], NativeLibraryProbe.DriverCandidates(windows: false, Environment()));
        Assert.Equal(["nvcuda.dll"], NativeLibraryProbe.DriverCandidates(windows: true, Environment()));
        Assert.Equal(["/opt/driver/libcuda.so.1", "libcuda.so.1", "libcuda.so"],
            NativeLibraryProbe.DriverCandidates(false, Environment(("STATICRNN_CUDA_DRIVER", "/opt/driver/libcuda.so.1"))));
        // A blank override is no override.
        Assert.Equal(["nvcuda.dll"], NativeLibraryProbe.DriverCandidates(true, Environment(("STATICRNN_CUDA_DRIVER", "  "))));
    }

    [Fact]
    public void Linux_nvrtc_candidates_are_sonames_newest_first_then_toolkit_directories()
    {
        string[] sonames = ["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2", "libnvrtc.so"];
        var plain = NativeLibraryProbe.NvrtcCandidates(windows: false, Environment());
        Assert.Equal([.. sonames, .. Prefixed("/usr/local/cuda/lib64/", sonames)], plain);

        var all = NativeLibraryProbe.NvrtcCandidates(false, Environment(
            ("STATICRNN_NVRTC", "/x/libnvrtc.so.13.0.48"), ("CUDA_HOME", "/opt/cuda-13/"), ("CUDA_PATH", "/opt/cuda-12")));
        Assert.Equal(
            ["/x/libnvrtc.so.13.0.48", .. sonames, .. Prefixed("/opt/cuda-13/lib64/", sonames),
             .. Prefixed("/opt/cuda-12/lib64/", sonames), .. Prefixed("/usr/local/cuda/lib64/", sonames)],
            all);

        // CUDA_HOME and CUDA_PATH naming the default directory do not repeat it.
        var same = NativeLibraryProbe.NvrtcCandidates(false, Environment(("CUDA_HOME", "/usr/local/cuda"), ("CUDA_PATH", "/usr/local/cuda/")));
        Assert.Equal(plain, same);
    }

    [Fact]
    public void Windows_nvrtc_candidates_include_cuda_13s_bin_x64()
    {
        string[] dlls = ["nvrtc64_130_0.dll", "nvrtc64_120_0.dll", "nvrtc64_112_0.dll"];
        Assert.Equal(dlls, NativeLibraryProbe.NvrtcCandidates(windows: true, Environment()));
        var withToolkit = NativeLibraryProbe.NvrtcCandidates(true, Environment(
            ("CUDA_PATH", @"C:\CUDA\v13.0\"), ("STATICRNN_NVRTC", @"D:\nvrtc.dll")));
        Assert.Equal([@"D:\nvrtc.dll", .. dlls, .. Prefixed(@"C:\CUDA\v13.0\bin\x64\", dlls), .. Prefixed(@"C:\CUDA\v13.0\bin\", dlls)],
            withToolkit);
    }

    [Fact]
    public void TryLoadFirst_reports_every_name_it_tried()
    {
        string[] missing = ["libstaticrnn-missing-1.so", Path.Combine(Path.GetTempPath(), "staticrnn-missing", "libcuda.so.1"), "nvcuda-missing.dll"];
        Assert.False(NativeLibraryProbe.TryLoadFirst(missing, out var handle, out var tried));
        Assert.Equal(0, handle);
        Assert.Equal(missing, tried);
    }

    [Fact]
    public void TryLoadFirst_stops_at_the_first_library_that_loads()
    {
        // The JIT is a native library every .NET installation has, next to the runtime's own assemblies.
        var jit = Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(),
            OperatingSystem.IsWindows() ? "clrjit.dll" : OperatingSystem.IsMacOS() ? "libclrjit.dylib" : "libclrjit.so");
        Assert.True(File.Exists(jit), jit);
        Assert.True(NativeLibraryProbe.TryLoadFirst(["libstaticrnn-missing.so", jit, "never-tried.so"], out var handle, out var tried));
        Assert.NotEqual(0, handle);
        Assert.Equal(["libstaticrnn-missing.so", jit], tried);
        NativeLibrary.Free(handle);
    }

    private static IEnumerable<string> Prefixed(string directory, string[] names)
    {
        foreach (var name in names)
            yield return directory + name;
    }

    [Fact]
    public void Nvrtc_newer_than_the_driver_is_not_tried()
    {
        var forCuda12 = NativeLibraryProbe.NvrtcCandidates(windows: false, _ => null, driverMajor: 12);
        Assert.DoesNotContain(forCuda12, name => name.EndsWith("libnvrtc.so.13", StringComparison.Ordinal));
        Assert.Equal("libnvrtc.so.12", forCuda12[0]);
        var forCuda13 = NativeLibraryProbe.NvrtcCandidates(windows: false, _ => null, driverMajor: 13);
        Assert.Equal("libnvrtc.so.13", forCuda13[0]);
        // The override is the user's choice and stays first whatever the driver.
        var overridden = NativeLibraryProbe.NvrtcCandidates(false, name => name == NativeLibraryProbe.NvrtcOverrideVariable ? "/opt/nvrtc13/libnvrtc.so.13" : null, driverMajor: 12);
        Assert.Equal("/opt/nvrtc13/libnvrtc.so.13", overridden[0]);
    }
}
