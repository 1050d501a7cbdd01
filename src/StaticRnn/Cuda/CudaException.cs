using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace StaticRnn.Cuda;

/// <summary>A CUDA driver API call failed.</summary>
public class CudaException : Exception
{
    internal CudaException(string function, int errorCode, string? errorName, string message)
        : base(message)
    {
        Function = function;
        ErrorCode = errorCode;
        ErrorName = errorName;
    }

    /// <summary>The CUresult the call returned, e.g. 2 for CUDA_ERROR_OUT_OF_MEMORY.</summary>
    public int ErrorCode { get; }

    /// <summary>The CUresult's name, e.g. "CUDA_ERROR_OUT_OF_MEMORY"; null when neither the driver nor StaticRnn knows the code.</summary>
    public string? ErrorName { get; }

    /// <summary>The driver function that failed, e.g. "cuMemAlloc_v2".</summary>
    public string Function { get; }

    /// <summary>Builds the exception for a failed call, e.g. "cuMemAlloc_v2 failed with CUDA_ERROR_OUT_OF_MEMORY (2): out of memory".
    /// The name and text come from the driver when it is loaded, else from a table of common codes.</summary>
    internal static CudaException FromResult(int errorCode, string function, string? detail = null)
    {
        var (name, description) = NativeLibraryProbe.IsDriverLoaded ? DriverDescription(errorCode) : default;
        if (name is null)
            (name, description) = BuiltInDescription(errorCode);
        var message = FormatFailure(function, errorCode, name, description);
        return new CudaException(function, errorCode, name, detail is null ? message : message + " " + detail);
    }

    internal static string FormatFailure(string function, int errorCode, string? name, string? description) =>
        name is null
            ? $"{function} failed with CUresult {errorCode}."
            : $"{function} failed with {name} ({errorCode}){(string.IsNullOrEmpty(description) ? "" : ": " + description)}.";

    private static (string? Name, string? Description) DriverDescription(int errorCode)
    {
        try
        {
            // Both return CUDA_ERROR_INVALID_VALUE (and no string) for a code this driver does not know.
            var name = CudaDriver.cuGetErrorName(errorCode, out var namePointer) == CudaDriver.CUDA_SUCCESS
                ? Marshal.PtrToStringUTF8(namePointer) : null;
            var text = CudaDriver.cuGetErrorString(errorCode, out var textPointer) == CudaDriver.CUDA_SUCCESS
                ? Marshal.PtrToStringUTF8(textPointer) : null;
            return (name, text);
        }
        catch (EntryPointNotFoundException)
        {
            return default;
        }
    }

    /// <summary>The common codes' names (cuda.h) and the driver's texts for them, for when the driver cannot be asked.</summary>
    internal static (string? Name, string? Description) BuiltInDescription(int errorCode) => errorCode switch
    {
        0 => ("CUDA_SUCCESS", "no error"),
        1 => ("CUDA_ERROR_INVALID_VALUE", "invalid argument"),
        2 => ("CUDA_ERROR_OUT_OF_MEMORY", "out of memory"),
        3 => ("CUDA_ERROR_NOT_INITIALIZED", "initialization error"),
        4 => ("CUDA_ERROR_DEINITIALIZED", "driver shutting down"),
        34 => ("CUDA_ERROR_STUB_LIBRARY", "CUDA driver is a stub library"),
        46 => ("CUDA_ERROR_DEVICE_UNAVAILABLE", "CUDA-capable device(s) is/are busy or unavailable"),
        100 => ("CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"),
        101 => ("CUDA_ERROR_INVALID_DEVICE", "invalid device ordinal"),
        200 => ("CUDA_ERROR_INVALID_IMAGE", "device kernel image is invalid"),
        201 => ("CUDA_ERROR_INVALID_CONTEXT", "invalid device context"),
        209 => ("CUDA_ERROR_NO_BINARY_FOR_GPU", "no kernel image is available for execution on the device"),
        218 => ("CUDA_ERROR_INVALID_PTX", "a PTX JIT compilation failed"),
        222 => ("CUDA_ERROR_UNSUPPORTED_PTX_VERSION", "the provided PTX was compiled with an unsupported toolchain"),
        400 => ("CUDA_ERROR_INVALID_HANDLE", "invalid resource handle"),
        500 => ("CUDA_ERROR_NOT_FOUND", "named symbol not found"),
        700 => ("CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"),
        701 => ("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES", "too many resources requested for launch"),
        702 => ("CUDA_ERROR_LAUNCH_TIMEOUT", "the launch timed out and was terminated"),
        715 => ("CUDA_ERROR_ILLEGAL_INSTRUCTION", "an illegal instruction was encountered"),
        716 => ("CUDA_ERROR_MISALIGNED_ADDRESS", "misaligned address"),
        719 => ("CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"),
        801 => ("CUDA_ERROR_NOT_SUPPORTED", "operation not supported"),
        803 => ("CUDA_ERROR_SYSTEM_DRIVER_MISMATCH", "system has unsupported display driver / cuda driver combination"),
        804 => ("CUDA_ERROR_COMPAT_NOT_SUPPORTED_ON_DEVICE", "forward compatibility was attempted on non supported HW"),
        999 => ("CUDA_ERROR_UNKNOWN", "unknown error"),
        _ => (null, null),
    };
}

/// <summary>
/// CUDA cannot be used here: no NVIDIA driver, no CUDA device (or not the one asked for), no NVRTC, or a device
/// that cannot run this model. The message says which and what to do; callers typically fall back to the CPU.
/// </summary>
public sealed class CudaUnavailableException : Exception
{
    internal CudaUnavailableException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    internal static CudaUnavailableException DriverNotFound(IReadOnlyList<string> tried) => new(
        $"The NVIDIA CUDA driver library was not found (tried {string.Join(", ", tried)}). Install the NVIDIA driver, " +
        $"or set {NativeLibraryProbe.DriverOverrideVariable} to the full path of libcuda.so.1 (Linux) or nvcuda.dll (Windows).");

    internal static CudaUnavailableException InitFailed(CudaException error)
    {
        var hint = error.ErrorCode switch
        {
            100 => " No NVIDIA GPU is visible to this process: check nvidia-smi, and CUDA_VISIBLE_DEVICES if it is set.",
            34 => " The libcuda that was loaded is the CUDA Toolkit's stub, not the NVIDIA driver: install the driver, " +
                  "or keep the toolkit's stubs directory out of LD_LIBRARY_PATH.",
            803 => " The NVIDIA kernel module and the driver library have different versions: reboot, or reinstall the driver.",
            46 => " The GPU is in exclusive or prohibited compute mode and in use by another process (nvidia-smi -q shows the compute mode).",
            _ => "",
        };
        return new($"The NVIDIA driver is installed but could not be initialized: {error.Message}{hint}", error);
    }

    internal static CudaUnavailableException NoDevice(int requested, int found) => new(found == 0
        ? $"CUDA device {requested} requested; no CUDA device found."
        : $"CUDA device {requested} requested; {found} CUDA device{(found == 1 ? "" : "s")} found (ordinals 0 to {found - 1}).");

    internal static CudaUnavailableException NvrtcNotFound(IReadOnlyList<string> tried) => new(
        $"NVRTC, the CUDA runtime compiler that builds the model's kernel, was not found (tried {string.Join(", ", tried)}). " +
        $"Install the CUDA Toolkit's NVRTC (for example the cuda-nvrtc package), or set {NativeLibraryProbe.NvrtcOverrideVariable} " +
        "to the full path of libnvrtc.so.* (Linux) or nvrtc64_*.dll (Windows).");

    internal static CudaUnavailableException MissingEntryPoint(EntryPointNotFoundException error) => new(
        $"The installed CUDA library lacks a function StaticRnn needs ({error.Message}); update the NVIDIA driver " +
        "(CUDA 11.2 or newer) and the CUDA Toolkit's NVRTC.", error);

    internal static CudaUnavailableException Unsupported(string message) => new(message);
}

/// <summary>NVRTC could not compile the model's CUDA kernel. The generator wrote that kernel, so this is a bug
/// worth reporting with <see cref="Log"/>.</summary>
public sealed class NvrtcCompileException : Exception
{
    internal NvrtcCompileException(string entryPoint, string architecture, string nvrtcError, string log)
        : base($"NVRTC could not compile the CUDA kernel '{entryPoint}' for {architecture}: {nvrtcError}." +
               (string.IsNullOrWhiteSpace(log) ? "" : Environment.NewLine + log.TrimEnd()))
    {
        Architecture = architecture;
        NvrtcError = nvrtcError;
        Log = log;
    }

    /// <summary>NVRTC's compile log (empty when it wrote none).</summary>
    public string Log { get; }

    /// <summary>The architecture option the kernel was compiled with, e.g. "--gpu-architecture=sm_90".</summary>
    public string Architecture { get; }

    /// <summary>NVRTC's text for the nvrtcResult, e.g. "NVRTC_ERROR_COMPILATION".</summary>
    public string NvrtcError { get; }
}
