using System;
using System.Globalization;
using System.Runtime.InteropServices;
using StaticRnn.Cuda;
using Xunit;

namespace StaticRnn.Tests.Cuda;

/// <summary>A fact that runs only where <see cref="CudaDevice.IsAvailable"/> says yes, and is skipped elsewhere
/// with the reason.</summary>
public sealed class CudaFactAttribute : FactAttribute
{
    private static readonly Lazy<string?> s_skip = new(() => CudaDevice.IsAvailable(out var reason) ? null : "no CUDA device: " + reason);

    public CudaFactAttribute() => Skip = s_skip.Value;
}

/// <summary>Hand-written kernels with the generator's launch ABI, and their CPU reference.</summary>
internal static class CudaTestKernels
{
    public const int OutputSize = 2;

    /// <summary>
    /// Each sequence's outputs are { w[0] · sum + w[1], first input }, where sum adds the inputs (feature models) or
    /// w[2 + token] (token models) of the sequence's first lengths[s] steps (all of them when lengths is null). The running sum goes through the sequence's scratch and the block's dynamic
    /// shared memory when the kernel has them, so wrong scratch offsets or a missing shared-memory opt-in show.
    /// </summary>
    public static CudaKernelDefinition Create(int sequenceLength = 5, int inputSize = 3, int vocabularySize = 0,
        int sequencesPerBlock = 4, int threadsPerBlock = 8, int sharedMemoryBytes = 0, int scratchFloatsPerSequence = 0,
        string entryPoint = "staticrnn_test_kernel", string body = "")
    {
        var inputs = sequenceLength * inputSize;
        var source = $$"""
            #define SPB {{sequencesPerBlock}}
            #define INPUTS {{inputs}}
            #define STEP {{inputSize}}
            #define SCRATCH {{scratchFloatsPerSequence}}
            #define SHARED_FLOATS {{sharedMemoryBytes / 4}}
            #define TOKENS {{(vocabularySize > 0 ? 1 : 0)}}
            extern "C" __global__ void {{entryPoint}}(const float* weights, const void* inputs, float* outputs, float* scratch, int sequences, int staged_floats, const int* lengths)
            {
                extern __shared__ float shared[];
                const int local = threadIdx.x;
                const int s = blockIdx.x * SPB + local;
                if (local >= SPB || s >= sequences) return;
            #if TOKENS
                const int* x = (const int*)inputs + (size_t)s * INPUTS;
            #else
                const float* x = (const float*)inputs + (size_t)s * INPUTS;
            #endif
                float sum = 0.0f;
                const int used = lengths ? lengths[s] * STEP : INPUTS;
                for (int i = 0; i < used; ++i)
                {
            #if TOKENS
                    sum += weights[2 + x[i]];
            #else
                    sum += x[i];
            #endif
            #if SCRATCH > 0
                    float* mine = scratch + ((size_t)blockIdx.x * SPB + local) * SCRATCH;
                    mine[i % SCRATCH] = sum;
                    sum = mine[i % SCRATCH];
            #endif
                }
            #if SHARED_FLOATS > 0
                shared[SHARED_FLOATS - 1 - local] = sum;
                sum = shared[SHARED_FLOATS - 1 - local];
            #endif
                outputs[(size_t)s * 2] = weights[0] * sum + weights[1];
                outputs[(size_t)s * 2 + 1] = (float)x[0];
                {{body}}
            }
            """;
        return new CudaKernelDefinition(entryPoint, source, sequenceLength, inputSize, vocabularySize, OutputSize,
            sequencesPerBlock, threadsPerBlock, sharedMemoryBytes, scratchFloatsPerSequence);
    }

    public static float[] Weights(int vocabularySize) =>
        [1.5f, -0.25f, .. Enumerable(vocabularySize)];

    private static float[] Enumerable(int count)
    {
        var values = new float[count];
        for (var i = 0; i < count; i++)
            values[i] = 0.125f * i - 0.5f;
        return values;
    }

    public static float[] Reference(CudaKernelDefinition kernel, float[] weights, ReadOnlySpan<float> features, ReadOnlySpan<int> tokens,
        ReadOnlySpan<int> lengths = default)
    {
        var perSequence = kernel.InputsPerSequence;
        var count = (kernel.TakesTokens ? tokens.Length : features.Length) / perSequence;
        var outputs = new float[count * OutputSize];
        for (var s = 0; s < count; s++)
        {
            var sum = 0f;
            var used = lengths.IsEmpty ? perSequence : lengths[s] * kernel.InputSize;
            for (var i = 0; i < used; i++)
                sum += kernel.TakesTokens ? weights[2 + tokens[s * perSequence + i]] : features[s * perSequence + i];
            outputs[2 * s] = weights[0] * sum + weights[1];
            outputs[2 * s + 1] = kernel.TakesTokens ? tokens[s * perSequence] : features[s * perSequence];
        }
        return outputs;
    }

    public static float[] RandomFeatures(int count, int seed)
    {
        var random = new Random(seed);
        var values = new float[count];
        for (var i = 0; i < values.Length; i++)
            values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    public static int[] RandomTokens(int count, int vocabularySize, int seed)
    {
        var random = new Random(seed);
        var values = new int[count];
        for (var i = 0; i < values.Length; i++)
            values[i] = random.Next(vocabularySize);
        return values;
    }

    /// <summary>Within 1e-5 relative: the GPU may fuse w[0] · sum + w[1] into one rounding.</summary>
    public static void AssertClose(float[] expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (var i = 0; i < expected.Length; i++)
        {
            var tolerance = 1e-5f * Math.Max(1f, Math.Abs(expected[i]));
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                string.Create(CultureInfo.InvariantCulture, $"output {i}: expected {expected[i]}, got {actual[i]}"));
        }
    }

    /// <summary>Whether the NVIDIA driver library loads here, found independently of the code under test.</summary>
    public static bool DriverLoads()
    {
        var name = OperatingSystem.IsWindows() ? "nvcuda.dll" : "libcuda.so.1";
        if (!NativeLibrary.TryLoad(name, out var handle))
            return false;
        NativeLibrary.Free(handle);
        return true;
    }
}
