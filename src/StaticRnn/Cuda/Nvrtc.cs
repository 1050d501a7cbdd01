using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace StaticRnn.Cuda;

/// <summary>The NVRTC functions StaticRnn uses (nvrtc.h, CUDA 11.2 or newer), and the compile built on them.</summary>
internal static unsafe partial class Nvrtc
{
    private const string Library = NativeLibraryProbe.NvrtcLibrary;

    internal const int NVRTC_SUCCESS = 0;

    static Nvrtc() => NativeLibraryProbe.EnsureResolverRegistered();

    /// <summary>NVRTC's version as "major.minor", e.g. "13.0".</summary>
    internal static string Version()
    {
        CheckQuery(nvrtcVersion(out var major, out var minor), "nvrtcVersion");
        return $"{major}.{minor}";
    }

    /// <summary>The architectures this NVRTC compiles for, ascending, as 10 × major + minor (75, 80, …, 90, …).</summary>
    internal static int[] SupportedArchitectures()
    {
        CheckQuery(nvrtcGetNumSupportedArchs(out var count), "nvrtcGetNumSupportedArchs");
        var architectures = new int[count];
        fixed (int* destination = architectures)
            CheckQuery(nvrtcGetSupportedArchs(destination), "nvrtcGetSupportedArchs");
        return architectures;
    }

    /// <summary>Compiles CUDA C++ to a CUBIN, or to NUL-terminated PTX when <paramref name="ptx"/> is set.
    /// Throws <see cref="NvrtcCompileException"/> with NVRTC's log on failure.</summary>
    /// <param name="source">The CUDA C++ source.</param>
    /// <param name="programName">The name NVRTC gives the source in its log.</param>
    /// <param name="entryPoint">The kernel's name, for the exception.</param>
    /// <param name="architecture">The architecture option among <paramref name="options"/>, for the exception.</param>
    /// <param name="options">NVRTC's command-line options.</param>
    /// <param name="ptx">Whether to return PTX rather than a CUBIN.</param>
    /// <param name="headerName">The one header the source may include, by this name.</param>
    /// <param name="header">That header's text.</param>
    internal static byte[] Compile(
        string source, string programName, string entryPoint, string architecture, IReadOnlyList<string> options, bool ptx,
        string headerName, string header)
    {
        var unmanaged = new List<nint>();
        nint program = 0;
        try
        {
            var sourcePointer = Utf8(source, unmanaged);
            var namePointer = Utf8(programName, unmanaged);
            var headerPointer = Utf8(header, unmanaged);
            var headerNamePointer = Utf8(headerName, unmanaged);
            var result = nvrtcCreateProgram(out program, sourcePointer, namePointer, 1, &headerPointer, &headerNamePointer);
            if (result != NVRTC_SUCCESS)
                throw new NvrtcCompileException(entryPoint, architecture, ErrorString(result), "");

            var optionPointers = stackalloc byte*[options.Count];
            for (var i = 0; i < options.Count; i++)
                optionPointers[i] = Utf8(options[i], unmanaged);
            result = nvrtcCompileProgram(program, options.Count, optionPointers);
            if (result != NVRTC_SUCCESS)
                throw new NvrtcCompileException(entryPoint, architecture, ErrorString(result), Log(program));

            nuint size;
            result = ptx ? nvrtcGetPTXSize(program, out size) : nvrtcGetCUBINSize(program, out size);
            if (result != NVRTC_SUCCESS)
                throw new NvrtcCompileException(entryPoint, architecture, ErrorString(result), Log(program));
            var image = new byte[checked((int)size)];
            fixed (byte* destination = image)
                result = ptx ? nvrtcGetPTX(program, destination) : nvrtcGetCUBIN(program, destination);
            if (result != NVRTC_SUCCESS)
                throw new NvrtcCompileException(entryPoint, architecture, ErrorString(result), Log(program));
            return image;
        }
        finally
        {
            if (program != 0)
            {
                // Fails only for an invalid handle, which ours is not; throwing here would hide the real error.
                var destroyed = nvrtcDestroyProgram(ref program);
                Debug.Assert(destroyed == NVRTC_SUCCESS, "nvrtcDestroyProgram failed");
            }
            foreach (var pointer in unmanaged)
                Marshal.FreeCoTaskMem(pointer);
        }
    }

    private static byte* Utf8(string text, List<nint> owned)
    {
        var pointer = Marshal.StringToCoTaskMemUTF8(text);
        owned.Add(pointer);
        return (byte*)pointer;
    }

    // The log is the point of the exception being built, so a failure to read it is reported inside it.
    private static string Log(nint program)
    {
        var result = nvrtcGetProgramLogSize(program, out var size);
        if (result != NVRTC_SUCCESS)
            return $"(nvrtcGetProgramLogSize failed with {ErrorString(result)})";
        if (size <= 1)
            return "";
        var log = new byte[checked((int)size)];
        fixed (byte* destination = log)
            result = nvrtcGetProgramLog(program, destination);
        if (result != NVRTC_SUCCESS)
            return $"(nvrtcGetProgramLog failed with {ErrorString(result)})";
        return Encoding.UTF8.GetString(log, 0, log.Length - 1);
    }

    internal static string ErrorString(int result) =>
        Marshal.PtrToStringUTF8(nvrtcGetErrorString(result)) is { Length: > 0 } text ? text : $"nvrtcResult {result}";

    // A loaded NVRTC whose queries fail cannot build kernels: to the caller that is NVRTC being unavailable.
    private static void CheckQuery(int result, string function)
    {
        if (result != NVRTC_SUCCESS)
            throw CudaUnavailableException.Unsupported($"NVRTC was found but {function} failed with {ErrorString(result)} ({result}).");
    }

    [LibraryImport(Library)]
    internal static partial int nvrtcVersion(out int major, out int minor);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetNumSupportedArchs(out int count);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetSupportedArchs(int* architectures);

    [LibraryImport(Library)]
    internal static partial int nvrtcCreateProgram(out nint program, byte* source, byte* name, int headerCount, byte** headers, byte** includeNames);

    [LibraryImport(Library)]
    internal static partial int nvrtcCompileProgram(nint program, int optionCount, byte** options);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetProgramLogSize(nint program, out nuint size);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetProgramLog(nint program, byte* log);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetCUBINSize(nint program, out nuint size);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetCUBIN(nint program, byte* cubin);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetPTXSize(nint program, out nuint size);

    [LibraryImport(Library)]
    internal static partial int nvrtcGetPTX(nint program, byte* ptx);

    [LibraryImport(Library)]
    internal static partial int nvrtcDestroyProgram(ref nint program);

    [LibraryImport(Library)]
    internal static partial nint nvrtcGetErrorString(int result);
}
