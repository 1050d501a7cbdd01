using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;

namespace StaticRnn.Cuda;

/// <summary>
/// Finds the CUDA driver and NVRTC at run time and hands their handles to the P/Invoke bindings
/// (<see cref="CudaDriver"/>, <see cref="Nvrtc"/>), which import the logical names "cuda" and "nvrtc".
/// Nothing is loaded until a CUDA feature is used, so the library costs nothing on machines without a GPU.
/// </summary>
internal static class NativeLibraryProbe
{
    internal const string DriverLibrary = "cuda";
    internal const string NvrtcLibrary = "nvrtc";
    internal const string DriverOverrideVariable = "STATICRNN_CUDA_DRIVER";
    internal const string NvrtcOverrideVariable = "STATICRNN_NVRTC";

    private static readonly Lazy<ProbeResult> s_driver =
        new(() => Probe(DriverCandidates(OperatingSystem.IsWindows(), Environment.GetEnvironmentVariable)));
    private static readonly Lazy<ProbeResult> s_nvrtc = new(() =>
    {
        var result = Probe(NvrtcCandidates(OperatingSystem.IsWindows(), Environment.GetEnvironmentVariable, DriverCudaMajor()));
        if (result.Handle != 0)
            LoadNvrtcBuiltins(result.Tried[^1]);
        return result;
    });

    // An assembly gets one resolver, ever: registering it here, in the one type every CUDA entry point touches
    // first, makes it happen exactly once.
    static NativeLibraryProbe() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLibraryProbe).Assembly, Resolve);

    internal sealed record ProbeResult(nint Handle, IReadOnlyList<string> Tried);

    /// <summary>Runs the static constructor, which registers the resolver; the bindings call it before any import.</summary>
    internal static void EnsureResolverRegistered()
    {
    }

    internal static bool IsDriverLoaded => s_driver.IsValueCreated && s_driver.Value.Handle != 0;

    /// <summary>Loads the driver library (once) or throws <see cref="CudaUnavailableException"/> naming every candidate tried.</summary>
    internal static void RequireDriver()
    {
        if (s_driver.Value.Handle == 0)
            throw CudaUnavailableException.DriverNotFound(s_driver.Value.Tried);
    }

    /// <summary>Loads NVRTC (once) or throws <see cref="CudaUnavailableException"/> naming every candidate tried.</summary>
    internal static void RequireNvrtc()
    {
        if (s_nvrtc.Value.Handle == 0)
            throw CudaUnavailableException.NvrtcNotFound(s_nvrtc.Value.Tried);
    }

    // 0 lets the runtime probe as usual; the bindings are only called after Require* succeeded, so that never
    // happens for our two names.
    private static nint Resolve(string libraryName, Assembly assembly, DllImportSearchPath? searchPath) => libraryName switch
    {
        DriverLibrary => s_driver.Value.Handle,
        NvrtcLibrary => s_nvrtc.Value.Handle,
        _ => 0,
    };

    private static ProbeResult Probe(IReadOnlyList<string> candidates)
    {
        TryLoadFirst(candidates, out var handle, out var tried);
        return new ProbeResult(handle, tried);
    }

    /// <summary>Loads the first candidate that loads. <paramref name="tried"/> lists every name attempted, in order,
    /// including the one that loaded.</summary>
    internal static bool TryLoadFirst(IEnumerable<string> candidates, out nint handle, out IReadOnlyList<string> tried)
    {
        var attempted = new List<string>();
        tried = attempted;
        foreach (var candidate in candidates)
        {
            attempted.Add(candidate);
            // The plain overload hands the name to dlopen/LoadLibrary as is: sonames go through the system's
            // search (ld.so cache, LD_LIBRARY_PATH; System32, PATH), full paths are loaded directly.
            if (NativeLibrary.TryLoad(candidate, out handle))
                return true;
        }
        handle = 0;
        return false;
    }

    /// <summary>
    /// NVRTC loads its builtins library (libnvrtc-builtins.so.X.Y, nvrtc-builtins64_XY.dll) by name at compile time,
    /// through the system's search. When NVRTC itself came from a full path outside that search, the builtins beside
    /// it would not be found (NVRTC_ERROR_BUILTIN_OPERATION_FAILURE), so they are loaded first from the same
    /// directory: the system loader then finds them already loaded. Best effort; a failure here shows at compile.
    /// </summary>
    private static void LoadNvrtcBuiltins(string nvrtcPath)
    {
        try
        {
            var directory = System.IO.Path.GetDirectoryName(nvrtcPath);
            if (string.IsNullOrEmpty(directory) || !System.IO.Directory.Exists(directory))
                return;
            var pattern = OperatingSystem.IsWindows() ? "nvrtc-builtins64_*.dll" : "libnvrtc-builtins.so.*";
            foreach (var builtins in System.IO.Directory.GetFiles(directory, pattern))
            {
                if (NativeLibrary.TryLoad(builtins, out _))
                    return;
            }
        }
        catch (Exception e) when (e is System.IO.IOException or UnauthorizedAccessException)
        {
        }
    }

    /// <summary>The driver library's candidates, in probe order: the override variable, then the driver's names.</summary>
    internal static IReadOnlyList<string> DriverCandidates(bool windows, Func<string, string?> environment)
    {
        var names = new List<string>();
        AddOverride(names, environment(DriverOverrideVariable));
        if (windows)
        {
            names.Add("nvcuda.dll");
        }
        else
        {
            // libcuda.so.1 is what the driver installs; the unversioned name is often only the toolkit's stub.
            names.Add("libcuda.so.1");
            names.Add("libcuda.so");
        }
        return names;
    }

    /// <summary>The CUDA major version of the loaded driver (13 for a CUDA 13 driver), or null when it is not loaded.</summary>
    private static int? DriverCudaMajor() =>
        IsDriverLoaded && CudaDriver.cuDriverGetVersion(out var version) == CudaDriver.CUDA_SUCCESS ? version / 1000 : null;

    /// <summary>NVRTC's candidates, in probe order: the override variable, the sonames (newest first), then the same
    /// names in the CUDA Toolkit's usual directories. With <paramref name="driverMajor"/>, versions newer than the
    /// driver's CUDA are left out: the driver could not load what they compile.</summary>
    internal static IReadOnlyList<string> NvrtcCandidates(bool windows, Func<string, string?> environment, int? driverMajor = null)
    {
        var separator = windows ? '\\' : '/';
        var names = new List<string>();
        AddOverride(names, environment(NvrtcOverrideVariable));
        (string Name, int Major)[] versions = windows
            ? [("nvrtc64_130_0.dll", 13), ("nvrtc64_120_0.dll", 12), ("nvrtc64_112_0.dll", 11)]
            : [("libnvrtc.so.13", 13), ("libnvrtc.so.12", 12), ("libnvrtc.so.11.2", 11), ("libnvrtc.so", 0)];
        var sonames = versions.Where(v => driverMajor is not { } major || v.Major <= major).Select(v => v.Name).ToArray();
        names.AddRange(sonames);

        var directories = new List<string>();
        if (windows)
        {
            // CUDA 13 moved the Windows DLLs from bin to bin\x64.
            if (Root(environment("CUDA_PATH")) is { } cudaPath)
            {
                directories.Add(cudaPath + @"\bin\x64");
                directories.Add(cudaPath + @"\bin");
            }
        }
        else
        {
            foreach (var root in new[] { Root(environment("CUDA_HOME")), Root(environment("CUDA_PATH")), "/usr/local/cuda" })
            {
                if (root is not null)
                    directories.Add(root + "/lib64");
            }
        }

        var comparer = windows ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal;
        var seen = new HashSet<string>(comparer);
        foreach (var directory in directories)
        {
            if (!seen.Add(directory))
                continue;
            foreach (var soname in sonames)
                names.Add(directory + separator + soname);
        }
        return names;

        string? Root(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.TrimEnd('/', separator);
    }

    private static void AddOverride(List<string> names, string? value)
    {
        if (!string.IsNullOrWhiteSpace(value))
            names.Add(value.Trim());
    }
}
