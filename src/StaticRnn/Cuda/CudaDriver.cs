using System;
using System.Runtime.InteropServices;

namespace StaticRnn.Cuda;

/// <summary>
/// The CUDA driver API functions StaticRnn uses (cuda.h). Where cuda.h maps a name to a versioned export
/// (cuMemAlloc → cuMemAlloc_v2), the versioned export is bound, as a C program compiled against cuda.h would.
/// CUdevice is int, CUdeviceptr 64-bit, handles (CUcontext, CUmodule, CUfunction, CUstream, CUevent) pointers.
/// </summary>
internal static unsafe partial class CudaDriver
{
    private const string Library = NativeLibraryProbe.DriverLibrary;

    internal const int CUDA_SUCCESS = 0;

    // CUdevice_attribute
    internal const int CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK = 1;
    internal const int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
    internal const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
    internal const int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
    internal const int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR = 81;
    internal const int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;
    internal const int CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK = 111;

    // CUfunction_attribute
    internal const int CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES = 1;   // static __shared__ memory
    internal const int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

    // CUstream_flags: the stream does not synchronize with the legacy default stream.
    internal const uint CU_STREAM_NON_BLOCKING = 0x1;

    // CUevent_flags
    internal const uint CU_EVENT_DEFAULT = 0x0;

    /// <summary>Dynamic shared memory a kernel may use without opting in through cuFuncSetAttribute.</summary>
    internal const int DefaultSharedMemoryLimit = 48 * 1024;

    static CudaDriver() => NativeLibraryProbe.EnsureResolverRegistered();

    /// <summary>Throws <see cref="CudaException"/> unless <paramref name="result"/> is CUDA_SUCCESS.</summary>
    internal static void Check(int result, string function, string? detail = null)
    {
        if (result != CUDA_SUCCESS)
            throw CudaException.FromResult(result, function, detail);
    }

    /// <summary>Loads the driver and initializes it; returns the number of CUDA devices. Throws
    /// <see cref="CudaUnavailableException"/> when there is no driver or it cannot be initialized.</summary>
    internal static int Initialize()
    {
        NativeLibraryProbe.RequireDriver();
        try
        {
            // cuInit is cheap after the first call, and returns the same error again if the first failed.
            var init = cuInit(0);
            if (init != CUDA_SUCCESS)
                throw CudaUnavailableException.InitFailed(CudaException.FromResult(init, "cuInit"));
            Check(cuDeviceGetCount(out var count), "cuDeviceGetCount");
            return count;
        }
        catch (EntryPointNotFoundException e)
        {
            throw CudaUnavailableException.MissingEntryPoint(e);
        }
    }

    internal static int Attribute(int attribute, int device)
    {
        Check(cuDeviceGetAttribute(out var value, attribute, device), "cuDeviceGetAttribute");
        return value;
    }

    internal static string DeviceName(int device)
    {
        const int capacity = 256;
        var name = stackalloc byte[capacity];
        Check(cuDeviceGetName(name, capacity, device), "cuDeviceGetName");
        return Marshal.PtrToStringUTF8((nint)name) ?? "";
    }

    private static bool s_elapsedTimeV1;

    /// <summary>Milliseconds between two recorded events. CUDA 12.8 added cuEventElapsedTime_v2 and CUDA 13's cuda.h
    /// maps the name to it; older drivers export only the first version.</summary>
    internal static float ElapsedMilliseconds(nint start, nint stop)
    {
        if (!s_elapsedTimeV1)
        {
            try
            {
                Check(cuEventElapsedTime_v2(out var milliseconds, start, stop), "cuEventElapsedTime_v2");
                return milliseconds;
            }
            catch (EntryPointNotFoundException)
            {
                s_elapsedTimeV1 = true;
            }
        }
        Check(cuEventElapsedTime(out var ms, start, stop), "cuEventElapsedTime");
        return ms;
    }

    // ---- Initialization, devices, primary contexts ----

    [LibraryImport(Library)]
    internal static partial int cuInit(uint flags);

    [LibraryImport(Library)]
    internal static partial int cuDriverGetVersion(out int driverVersion);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGetCount(out int count);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGet(out int device, int ordinal);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGetName(byte* name, int length, int device);

    [LibraryImport(Library)]
    internal static partial int cuDeviceGetAttribute(out int value, int attribute, int device);

    [LibraryImport(Library)]
    internal static partial int cuDeviceTotalMem_v2(out nuint bytes, int device);

    [LibraryImport(Library)]
    internal static partial int cuDevicePrimaryCtxRetain(out nint context, int device);

    [LibraryImport(Library)]
    internal static partial int cuDevicePrimaryCtxRelease_v2(int device);

    [LibraryImport(Library)]
    internal static partial int cuCtxSetCurrent(nint context);

    // ---- Modules and launches ----

    [LibraryImport(Library)]
    internal static partial int cuModuleLoadData(out nint module, void* image);

    [LibraryImport(Library)]
    internal static partial int cuModuleUnload(nint module);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int cuModuleGetFunction(out nint function, nint module, string name);

    [LibraryImport(Library)]
    internal static partial int cuFuncSetAttribute(nint function, int attribute, int value);

    [LibraryImport(Library)]
    internal static partial int cuFuncGetAttribute(out int value, int attribute, nint function);

    [LibraryImport(Library)]
    internal static partial int cuOccupancyMaxActiveBlocksPerMultiprocessor(out int blocks, nint function, int blockSize,
        nuint dynamicSharedBytes);

    [LibraryImport(Library)]
    internal static partial int cuLaunchKernel(nint function, uint gridDimX, uint gridDimY, uint gridDimZ,
        uint blockDimX, uint blockDimY, uint blockDimZ, uint sharedMemBytes, nint stream, void** kernelParams, void** extra);

    // ---- Memory ----

    [LibraryImport(Library)]
    internal static partial int cuMemAlloc_v2(out ulong devicePointer, nuint bytes);

    [LibraryImport(Library)]
    internal static partial int cuMemFree_v2(ulong devicePointer);

    [LibraryImport(Library)]
    internal static partial int cuMemAllocHost_v2(out nint hostPointer, nuint bytes);

    [LibraryImport(Library)]
    internal static partial int cuMemFreeHost(nint hostPointer);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyHtoDAsync_v2(ulong destination, void* source, nuint bytes, nint stream);

    [LibraryImport(Library)]
    internal static partial int cuMemcpyDtoHAsync_v2(void* destination, ulong source, nuint bytes, nint stream);

    // ---- Streams and events ----

    [LibraryImport(Library)]
    internal static partial int cuStreamCreate(out nint stream, uint flags);

    [LibraryImport(Library)]
    internal static partial int cuStreamSynchronize(nint stream);

    [LibraryImport(Library)]
    internal static partial int cuStreamDestroy_v2(nint stream);

    [LibraryImport(Library)]
    internal static partial int cuEventCreate(out nint evt, uint flags);

    [LibraryImport(Library)]
    internal static partial int cuEventRecord(nint evt, nint stream);

    [LibraryImport(Library)]
    internal static partial int cuEventSynchronize(nint evt);

    [LibraryImport(Library)]
    internal static partial int cuEventElapsedTime(out float milliseconds, nint start, nint end);

    [LibraryImport(Library)]
    internal static partial int cuEventElapsedTime_v2(out float milliseconds, nint start, nint end);

    [LibraryImport(Library)]
    internal static partial int cuEventDestroy_v2(nint evt);

    // ---- Errors ----

    [LibraryImport(Library)]
    internal static partial int cuGetErrorName(int error, out nint name);

    [LibraryImport(Library)]
    internal static partial int cuGetErrorString(int error, out nint description);
}
