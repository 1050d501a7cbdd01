using StaticRnn.Cuda;
using Xunit;

namespace StaticRnn.Tests.Cuda;

/// <summary>The messages CUDA failures carry when the driver cannot describe them, and when CUDA is missing.</summary>
public class CudaExceptionTests
{
    [Fact]
    public void Known_codes_are_named_and_described_without_the_driver()
    {
        // Without a driver the built-in table answers; with one, the driver does, in the same words.
        var e = CudaException.FromResult(2, "cuMemAlloc_v2");
        Assert.Equal("cuMemAlloc_v2 failed with CUDA_ERROR_OUT_OF_MEMORY (2): out of memory.", e.Message);
        Assert.Equal(2, e.ErrorCode);
        Assert.Equal("CUDA_ERROR_OUT_OF_MEMORY", e.ErrorName);
        Assert.Equal("cuMemAlloc_v2", e.Function);
        Assert.Equal(("CUDA_ERROR_NO_DEVICE", "no CUDA-capable device is detected"), CudaException.BuiltInDescription(100));
        Assert.Equal(("CUDA_ERROR_ILLEGAL_ADDRESS", "an illegal memory access was encountered"), CudaException.BuiltInDescription(700));
        Assert.Equal("cuLaunchKernel failed with CUDA_ERROR_LAUNCH_FAILED (719): unspecified launch failure.",
            CudaException.FormatFailure("cuLaunchKernel", 719, "CUDA_ERROR_LAUNCH_FAILED", "unspecified launch failure"));
    }

    [Fact]
    public void Unknown_codes_fall_back_to_the_number()
    {
        Assert.Equal((null, null), CudaException.BuiltInDescription(123));
        Assert.Equal("cuFoo failed with CUresult 123.", CudaException.FormatFailure("cuFoo", 123, null, null));
        var e = CudaException.FromResult(123, "cuFoo", "Extra detail.");
        Assert.StartsWith("cuFoo failed with ", e.Message);
        Assert.EndsWith(" Extra detail.", e.Message);
        Assert.Equal(123, e.ErrorCode);
    }

    [Fact]
    public void Driver_not_found_lists_every_name_tried_and_says_what_to_install()
    {
        var e = CudaUnavailableException.DriverNotFound(["/opt/x/libcuda.so.1", "libcuda.so.1", "libcuda.so"]);
        Assert.Contains("tried /opt/x/libcuda.so.1, libcuda.so.1, libcuda.so", e.Message);
        Assert.Contains("Install the NVIDIA driver", e.Message);
        Assert.Contains("STATICRNN_CUDA_DRIVER", e.Message);
    }

    [Fact]
    public void Init_failure_names_the_cuda_error_and_keeps_it()
    {
        var error = new CudaException("cuInit", 100, "CUDA_ERROR_NO_DEVICE",
            "cuInit failed with CUDA_ERROR_NO_DEVICE (100): no CUDA-capable device is detected.");
        var e = CudaUnavailableException.InitFailed(error);
        Assert.Contains("cuInit failed with CUDA_ERROR_NO_DEVICE (100)", e.Message);
        Assert.Contains("nvidia-smi", e.Message);
        Assert.Same(error, e.InnerException);

        var stub = CudaUnavailableException.InitFailed(new CudaException("cuInit", 34, "CUDA_ERROR_STUB_LIBRARY", "cuInit failed."));
        Assert.Contains("stub", stub.Message);
    }

    [Fact]
    public void Missing_device_says_which_was_asked_for_and_how_many_exist()
    {
        Assert.Equal("CUDA device 3 requested; 1 CUDA device found (ordinals 0 to 0).", CudaUnavailableException.NoDevice(3, 1).Message);
        Assert.Equal("CUDA device 2 requested; 2 CUDA devices found (ordinals 0 to 1).", CudaUnavailableException.NoDevice(2, 2).Message);
        Assert.Equal("CUDA device 0 requested; no CUDA device found.", CudaUnavailableException.NoDevice(0, 0).Message);
    }

    [Fact]
    public void Nvrtc_not_found_lists_every_name_tried_and_the_override()
    {
        var e = CudaUnavailableException.NvrtcNotFound(["libnvrtc.so.13", "/usr/local/cuda/lib64/libnvrtc.so.13"]);
        Assert.Contains("tried libnvrtc.so.13, /usr/local/cuda/lib64/libnvrtc.so.13", e.Message);
        Assert.Contains("STATICRNN_NVRTC", e.Message);
        Assert.Contains("NVRTC", e.Message);
    }

    [Fact]
    public void Compile_failure_carries_the_log_architecture_and_nvrtc_error()
    {
        var e = new NvrtcCompileException("rnn_kernel", "--gpu-architecture=sm_90", "NVRTC_ERROR_COMPILATION",
            "rnn_kernel.cu(3): error: identifier \"x\" is undefined\n");
        Assert.Equal("--gpu-architecture=sm_90", e.Architecture);
        Assert.Equal("NVRTC_ERROR_COMPILATION", e.NvrtcError);
        Assert.Contains("identifier \"x\" is undefined", e.Log);
        Assert.Contains("'rnn_kernel' for --gpu-architecture=sm_90: NVRTC_ERROR_COMPILATION", e.Message);
        Assert.Contains("identifier \"x\" is undefined", e.Message);
    }
}
