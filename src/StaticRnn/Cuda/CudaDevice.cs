using System;

namespace StaticRnn.Cuda;

/// <summary>Whether this machine can run the CUDA scorer.</summary>
public static class CudaDevice
{
    /// <summary>
    /// Checks for what <see cref="CudaScorer"/> needs: the NVIDIA driver, a CUDA device and NVRTC. Never throws.
    /// </summary>
    /// <param name="reason">When available, the first device and NVRTC's version; otherwise what is missing and what
    /// to do about it (the message <see cref="CudaScorer.Create"/> would throw).</param>
    public static bool IsAvailable(out string reason)
    {
        try
        {
            var count = CudaDriver.Initialize();
            if (count == 0)
                throw CudaUnavailableException.NoDevice(0, 0);
            CudaDriver.Check(CudaDriver.cuDeviceGet(out var device, 0), "cuDeviceGet");
            var name = CudaDriver.DeviceName(device);
            var major = CudaDriver.Attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device);
            var minor = CudaDriver.Attribute(CudaDriver.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device);
            CudaDriver.Check(CudaDriver.cuDeviceTotalMem_v2(out var memory, device), "cuDeviceTotalMem_v2");
            CudaDriver.Check(CudaDriver.cuDriverGetVersion(out var driver), "cuDriverGetVersion");
            NativeLibraryProbe.RequireNvrtc();
            var nvrtc = Nvrtc.Version();
            // cuDriverGetVersion answers 1000 × major + 10 × minor, e.g. 13000 for CUDA 13.0.
            reason = $"{name} ({memory / (1024.0 * 1024 * 1024):0.#} GiB, compute capability {major}.{minor}; " +
                     $"{count} CUDA device{(count == 1 ? "" : "s")}), " +
                     $"driver for CUDA {driver / 1000}.{driver % 1000 / 10}, NVRTC {nvrtc}";
            return true;
        }
        catch (Exception e)
        {
            // Anything at all (a missing export, a broken install) means no: callers ask to decide, not to debug.
            reason = e.Message;
            return false;
        }
    }
}
