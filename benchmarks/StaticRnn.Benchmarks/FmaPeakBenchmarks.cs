using System;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;

namespace StaticRnn.Benchmarks;

/// <summary>
/// The single-core FMA ceiling: 12 independent accumulator chains of vector fused multiply-adds, enough to
/// cover FMA latency × FMA ports on current x64 cores (4 cycles × 2 ports = 8 chains). One operation is one
/// FMA instruction; its flops are 2 per lane (16 lanes for Vector512, 8 for Vector256), so
/// GFLOP/s = flops per FMA / (ns per FMA). The GFLOP/s column computes exactly that.
/// </summary>
public class FmaPeakBenchmarks
{
    public const int Iterations = 4096;
    public const int Chains = 12;
    public const int FmasPerCall = Iterations * Chains;

    private float _multiplier = 0.999999f;
    private float _addend = 1e-6f;

    [Benchmark(Description = "Vector512 FMA x 49152")]
    [BenchmarkCategory("FMA peak")]
    [FlopsPerOperation(FmasPerCall * 2L * 16)]
    public float Fma512()
    {
        if (!Vector512.IsHardwareAccelerated)
            throw new PlatformNotSupportedException("Vector512 is not hardware accelerated on this machine (or DOTNET_EnableAVX512F=0).");
        return Fma512Core(Vector512.Create(_multiplier), Vector512.Create(_addend));
    }

    [Benchmark(Description = "Vector256 FMA x 49152")]
    [BenchmarkCategory("FMA peak")]
    [FlopsPerOperation(FmasPerCall * 2L * 8)]
    public float Fma256()
    {
        if (!Vector256.IsHardwareAccelerated)
            throw new PlatformNotSupportedException("Vector256 is not hardware accelerated on this machine.");
        return Fma256Core(Vector256.Create(_multiplier), Vector256.Create(_addend));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Fma512Core(Vector512<float> m, Vector512<float> b)
    {
        Vector512<float> a0 = b, a1 = b + b, a2 = a1 + b, a3 = a2 + b, a4 = a3 + b, a5 = a4 + b;
        Vector512<float> a6 = a5 + b, a7 = a6 + b, a8 = a7 + b, a9 = a8 + b, a10 = a9 + b, a11 = a10 + b;
        for (var i = 0; i < Iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, b);
            a1 = Vector512.FusedMultiplyAdd(a1, m, b);
            a2 = Vector512.FusedMultiplyAdd(a2, m, b);
            a3 = Vector512.FusedMultiplyAdd(a3, m, b);
            a4 = Vector512.FusedMultiplyAdd(a4, m, b);
            a5 = Vector512.FusedMultiplyAdd(a5, m, b);
            a6 = Vector512.FusedMultiplyAdd(a6, m, b);
            a7 = Vector512.FusedMultiplyAdd(a7, m, b);
            a8 = Vector512.FusedMultiplyAdd(a8, m, b);
            a9 = Vector512.FusedMultiplyAdd(a9, m, b);
            a10 = Vector512.FusedMultiplyAdd(a10, m, b);
            a11 = Vector512.FusedMultiplyAdd(a11, m, b);
        }
        return Vector512.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)));
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static float Fma256Core(Vector256<float> m, Vector256<float> b)
    {
        Vector256<float> a0 = b, a1 = b + b, a2 = a1 + b, a3 = a2 + b, a4 = a3 + b, a5 = a4 + b;
        Vector256<float> a6 = a5 + b, a7 = a6 + b, a8 = a7 + b, a9 = a8 + b, a10 = a9 + b, a11 = a10 + b;
        for (var i = 0; i < Iterations; i++)
        {
            a0 = Vector256.FusedMultiplyAdd(a0, m, b);
            a1 = Vector256.FusedMultiplyAdd(a1, m, b);
            a2 = Vector256.FusedMultiplyAdd(a2, m, b);
            a3 = Vector256.FusedMultiplyAdd(a3, m, b);
            a4 = Vector256.FusedMultiplyAdd(a4, m, b);
            a5 = Vector256.FusedMultiplyAdd(a5, m, b);
            a6 = Vector256.FusedMultiplyAdd(a6, m, b);
            a7 = Vector256.FusedMultiplyAdd(a7, m, b);
            a8 = Vector256.FusedMultiplyAdd(a8, m, b);
            a9 = Vector256.FusedMultiplyAdd(a9, m, b);
            a10 = Vector256.FusedMultiplyAdd(a10, m, b);
            a11 = Vector256.FusedMultiplyAdd(a11, m, b);
        }
        return Vector256.Sum(((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) + ((a8 + a9) + (a10 + a11)));
    }
}
