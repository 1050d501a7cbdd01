using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Reflection;
using BenchmarkDotNet.Attributes;

namespace StaticRnn.Benchmarks;

/// <summary>
/// <c>--smoke [filter]</c>: every benchmark class once, without BenchmarkDotNet. Runs each class's GlobalSetup
/// (so the StaticRnn vs ONNX Runtime agreement check runs), then times each benchmark method with a Stopwatch:
/// a short warm-up, then <see cref="Rounds"/> rounds of about 20 ms, reporting the fastest round in ns per
/// operation (per sequence for the batch cases) and the bytes the method allocated per call. Rough but quick
/// (a few seconds per model); the BenchmarkDotNet run is the measurement.
/// </summary>
public static class Smoke
{
    private const int Rounds = 7;
    private static readonly TimeSpan RoundTime = TimeSpan.FromMilliseconds(20);

    public static int Run(string? filter)
    {
        var types = typeof(Smoke).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, IsPublic: true }
                        && t.GetMethods().Any(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
            .Where(t => filter is null || t.Name.Contains(filter, StringComparison.OrdinalIgnoreCase))
            .OrderBy(Order)
            .ThenBy(t => t.Name, StringComparer.Ordinal)
            .ToList();
        if (types.Count == 0)
        {
            Console.Error.WriteLine($"No benchmark class matches '{filter}'.");
            return 1;
        }

        Console.WriteLine($"smoke run: {Environment.ProcessorCount} logical CPUs, Vector512 {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "on" : "off")}, " +
                          $"Vector256 {(System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated ? "on" : "off")}; fastest of {Rounds} rounds of ~{RoundTime.TotalMilliseconds:0} ms");
        Console.WriteLine();
        Console.WriteLine($"{"class",-24} {"category",-9} {"case",-31} {"ns/op",12} {"GFLOP/s",8} {"vs ORT",7} {"B/call",7}  agreement");
        var failures = 0;
        foreach (var type in types)
        {
            object instance;
            try
            {
                instance = Activator.CreateInstance(type)!;
                foreach (var setup in type.GetMethods().Where(m => m.GetCustomAttribute<GlobalSetupAttribute>() is not null))
                    setup.Invoke(instance, null);
            }
            catch (Exception e)
            {
                var inner = e is TargetInvocationException { InnerException: { } ie } ? ie : e;
                Console.WriteLine($"{type.Name,-24} SETUP FAILED: {inner.GetType().Name}: {inner.Message}");
                failures++;
                continue;
            }
            var agreement = instance is IAgreementReport report ? $"max |StaticRnn - ORT| = {report.MaxAbsDiff:0.0e+0}" : "";

            var results = new List<(string Category, string Name, bool Baseline, double Ns, long? Flops, double Bytes)>();
            foreach (var method in type.GetMethods().Where(m => m.GetCustomAttribute<BenchmarkAttribute>() is not null))
            {
                var attribute = method.GetCustomAttribute<BenchmarkAttribute>()!;
                var category = method.GetCustomAttribute<BenchmarkCategoryAttribute>()?.Categories.FirstOrDefault() ?? "";
                var name = attribute.Description ?? method.Name;
                try
                {
                    var (ns, bytes) = Time(type, method, instance, attribute.OperationsPerInvoke);
                    results.Add((category, name, attribute.Baseline, ns, FlopCount.Of(type, method), bytes));
                }
                catch (Exception e)
                {
                    var inner = e is TargetInvocationException { InnerException: { } ie } ? ie : e;
                    Console.WriteLine($"{type.Name,-24} {category,-9} {name,-31} FAILED: {inner.GetType().Name}: {inner.Message}");
                    failures++;
                }
            }
            foreach (var r in results)
            {
                var baseline = results.FirstOrDefault(b => b.Baseline && b.Category == r.Category);
                var ratio = baseline.Ns > 0 && !r.Baseline ? (baseline.Ns / r.Ns).ToString("0.00", CultureInfo.InvariantCulture) + "x" : "";
                var gflops = r.Flops is { } f ? (f / r.Ns).ToString("0.00", CultureInfo.InvariantCulture) : "";
                Console.WriteLine($"{type.Name,-24} {r.Category,-9} {r.Name,-31} {FormatNs(r.Ns),12} {gflops,8} {ratio,7} {r.Bytes,7:0}  {agreement}");
                agreement = "";
            }

            foreach (var cleanup in type.GetMethods().Where(m => m.GetCustomAttribute<GlobalCleanupAttribute>() is not null))
                cleanup.Invoke(instance, null);
        }
        Console.WriteLine();
        Console.WriteLine("vs ORT: ONNX Runtime's time / this case's time in the same category (> 1: StaticRnn is faster).");
        return failures == 0 ? 0 : 1;
    }

    /// <summary>The README's order: the models by size, then the one-step cases, then the FMA ceiling.</summary>
    private static int Order(Type t)
    {
        string[] order =
        [
            "SineRnnBenchmarks", "SineLstmBenchmarks", "SineGruBenchmarks", "Lstm16x64Benchmarks", "Gru16x64Benchmarks",
            "Lstm64x128Benchmarks", "Gru64x128Benchmarks", "SentimentBenchmarks", "CharLstmStepBenchmarks",
            "TinyLstmBenchmarks", "TranslateBenchmarks", "FmaPeakBenchmarks",
        ];
        var i = Array.IndexOf(order, t.Name);
        return i < 0 ? order.Length : i;
    }

    private static string FormatNs(double ns) =>
        ns >= 100 ? ns.ToString("N0", CultureInfo.InvariantCulture)
        : ns >= 1 ? ns.ToString("0.0", CultureInfo.InvariantCulture)
        : ns.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>Fastest round, in ns per operation, and the bytes allocated per call.</summary>
    private static (double Ns, double Bytes) Time(Type type, MethodInfo method, object instance, int operationsPerInvoke)
    {
        Action call = method.ReturnType == typeof(void)
            ? method.CreateDelegate<Action>(instance)
            : WrapFunc(method, instance);

        // Warm-up (tiered JIT: let the method reach its optimised tier), and find how many calls fill a round.
        var calls = 1L;
        var total = 0L;
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromMilliseconds(300))
        {
            for (var i = 0; i < calls; i++)
                call();
            total += calls;
            if (calls < (1 << 24))
                calls *= 2;
        }
        var perCallMs = sw.Elapsed.TotalMilliseconds / total;
        var n = Math.Max(1L, (long)(RoundTime.TotalMilliseconds / Math.Max(perCallMs, 1e-7)));

        var best = double.MaxValue;
        var allocated = 0L;
        for (var r = 0; r < Rounds; r++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            var t0 = Stopwatch.GetTimestamp();
            for (var i = 0; i < n; i++)
                call();
            var elapsed = Stopwatch.GetElapsedTime(t0);
            allocated = Math.Max(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
            best = Math.Min(best, elapsed.TotalNanoseconds / n / operationsPerInvoke);
        }
        return (best, (double)allocated / n);
    }

    private static Action WrapFunc(MethodInfo method, object instance)
    {
        // Benchmarks that return a value (the FMA loops): keep the result alive so nothing is optimised away.
        if (method.ReturnType == typeof(float))
        {
            var f = method.CreateDelegate<Func<float>>(instance);
            return () => Sink.Float += f();
        }
        return () => method.Invoke(instance, null);
    }

    private static class Sink
    {
        public static float Float;
    }
}
