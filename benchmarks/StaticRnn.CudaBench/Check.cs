using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.InteropServices;
using StaticRnn.Cuda;

namespace StaticRnn.CudaBench;

/// <summary>The <c>check</c> mode: correctness of the CUDA back end against PyTorch and the CPU path.</summary>
public static class Check
{
    /// <summary>Every comparison: max |GPU − reference| over all outputs.</summary>
    public const double Tolerance = 1e-5;

    public const string NoDevice = "no CUDA device: GPU checks not run";

    /// <summary>Sequences of the largest batch: 65,536 + 13, past any power-of-two block or chunk.</summary>
    private const int Largest = 65536 + 13;

    /// <summary>Spare random sequences, so each batch starts at a random place in the inputs.</summary>
    private const int Spare = 4096;

    /// <summary>Poisoned floats after each output span: the scorer must write none of them.</summary>
    private const int Guard = 64;

    /// <summary>The outcome of every check, printed as it is made.</summary>
    private sealed class Results
    {
        public List<string> Failures { get; } = new();
        public int Passed { get; private set; }

        public bool Expect(bool ok, string what, string detail)
        {
            Console.WriteLine($"  {(ok ? "ok  " : "FAIL")} {what}: {detail}");
            if (ok) Passed++;
            else Failures.Add($"{what}: {detail}");
            return ok;
        }

        /// <summary>Runs one check; an exception fails it (the remaining checks still run).</summary>
        public void Try(string what, Action action)
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                Console.WriteLine($"  FAIL {what}: {e.GetType().Name}: {e.Message}");
                Console.WriteLine(Indent(e.ToString()));
                Failures.Add($"{what}: {e.GetType().Name}: {e.Message}");
            }
        }

        private static string Indent(string s) => "       " + s.Replace("\n", "\n       ");

        public int Summary(string? lastLine = null)
        {
            Console.WriteLine();
            if (Failures.Count > 0)
            {
                Console.WriteLine($"FAILED: {Failures.Count} check(s) failed, {Passed} passed:");
                foreach (var f in Failures) Console.WriteLine($"  - {f}");
            }
            else
            {
                Console.WriteLine($"passed: {Passed} check(s)");
            }
            if (lastLine is not null) Console.WriteLine(lastLine);
            return Failures.Count > 0 ? 1 : 0;
        }
    }

    public static int Run(Options options)
    {
        var models = options.Models(BenchModel.All);
        var results = new Results();
        Console.WriteLine($"StaticRnn.CudaBench check ({Fmt.Version}), .NET {Environment.Version}, {Environment.ProcessorCount} CPU threads");

        Console.WriteLine("CPU PredictBatch vs PyTorch float64 (Models/*.reference.safetensors):");
        var references = new Dictionary<string, Reference>();
        foreach (var model in models)
        {
            results.Try($"{model.Name} CPU vs PyTorch", () =>
            {
                var reference = Reference.Load(model);
                references[model.Name] = reference;
                var cpu = Data.Poisoned(reference.Sequences * model.OutputSize);
                model.PredictBatch(reference.Input, cpu);
                var d = Difference.Of(cpu, reference.Expected);
                results.Expect(d.Within(Tolerance), $"{model.Name} CPU vs PyTorch", $"{d} ({reference.Sequences} sequences)");
            });
        }

        if (!CudaDevice.IsAvailable(out var reason))
        {
            Console.WriteLine($"CUDA unavailable: {reason}");
            return results.Summary(NoDevice);
        }
        Console.WriteLine($"CUDA: {reason}");
        return RunGpu(options, models, references, results);
    }

    private static int RunGpu(Options options, IReadOnlyList<BenchModel> models, Dictionary<string, Reference> references, Results results)
    {
        var seed = options.GetSeed() ?? Data.FreshSeed();
        Console.WriteLine();
        Console.WriteLine($"GPU checks, random inputs from seed {seed} (repeat with --seed {seed}), tolerance {Tolerance:0e+00}");
        var cacheRoot = options.Get("cache") ?? Path.Combine(
            Environment.GetEnvironmentVariable("STATICRNN_CUDA_CACHE") is { Length: > 0 } env ? env : Path.GetTempPath(),
            $"cudabench-check-{Environment.ProcessId}");
        Console.WriteLine($"kernel caches (fresh, one per model) under {cacheRoot}");

        var offsets = new Offsets(seed);
        // Float models with as many inputs per sequence share one set; a token model's (ids, not floats) is its own.
        var inputsBySize = new Dictionary<(int PerSequence, int Vocabulary), float[]>();
        foreach (var model in models)
        {
            Console.WriteLine();
            Console.WriteLine($"{model.Name} ({model.Description}, T = {model.SequenceLength}{(model.CheckOnly ? "; check-only" : "")}):");
            var total = Largest + Spare;
            if (!inputsBySize.TryGetValue((model.InputsPerSequence, model.VocabularySize), out var inputs))
            {
                var fill = Stopwatch.StartNew();
                inputs = Data.RandomInputs(total, model.InputsPerSequence, seed, model.VocabularySize);
                inputsBySize[(model.InputsPerSequence, model.VocabularySize)] = inputs;
                Console.WriteLine($"  {total} random {(model.TakesTokens ? $"token sequences (ids 0 .. {model.VocabularySize - 1})" : "sequences")} in {fill.ElapsedMilliseconds} ms");
            }
            var cpuTime = Stopwatch.StartNew();
            var cpu = Data.CpuOutputs(model, inputs, total);
            Console.WriteLine($"  CPU PredictBatch reference for {total} sequences: {cpuTime.ElapsedMilliseconds} ms");

            references.TryGetValue(model.Name, out var reference);
            results.Try($"{model.Name}", () => CheckModel(model, reference, inputs, cpu, total, offsets, cacheRoot, options, results));
        }
        return results.Summary();
    }

    private static void CheckModel(BenchModel model, Reference? reference, float[] inputs, float[] cpu, int total, Offsets offsets,
        string cacheRoot, Options options, Results results)
    {
        var name = model.Name;
        var cacheDir = Path.Combine(cacheRoot, name);
        if (Directory.Exists(cacheDir)) Directory.Delete(cacheDir, recursive: true);
        Directory.CreateDirectory(cacheDir);
        var cacheOptions = new CudaScorerOptions { CacheDirectory = cacheDir };

        // (d, first half) A cold creation: an empty cache, so NVRTC compiles the kernel.
        var clock = Stopwatch.StartNew();
        var scorer = model.CreateCudaScorer(cacheOptions);
        var coldMs = clock.Elapsed.TotalMilliseconds;
        double? warmMs = null, childMs = null;
        float[]? firstReference = null;
        Dictionary<string, (long Length, DateTime Written)>? cached = null;
        try
        {
            Console.WriteLine($"  device: {scorer.DeviceName}, compute capability {scorer.ComputeCapability}; " +
                              $"CreateCudaScorer (empty cache, compiles): {Fmt.F(coldMs, "0.0")} ms; recurrent weights staged in shared memory: {scorer.StagedWeightBytes} bytes per block");
            results.Expect(scorer.InputsPerSequence == model.InputsPerSequence && scorer.OutputSize == model.OutputSize && scorer.TakesTokens == model.TakesTokens,
                $"{name} scorer shape",
                $"InputsPerSequence {scorer.InputsPerSequence} (want {model.InputsPerSequence}), OutputSize {scorer.OutputSize} " +
                $"(want {model.OutputSize}), TakesTokens {scorer.TakesTokens} (want {model.TakesTokens})");
            cached = Snapshot(cacheDir);
            results.Expect(cached.Count > 0, $"{name} kernel written to the cache", $"{cached.Count} file(s) in {cacheDir}");

            var (block, blockSource) = SequencesPerBlock(model, scorer, options);
            Console.WriteLine($"  sequences per block: {block} ({blockSource})");

            // (a) PyTorch's reference sequences.
            if (reference is null)
                results.Expect(false, $"{name} GPU vs PyTorch", "no reference (see the CPU check above)");
            else
                results.Try($"{name} GPU vs PyTorch", () => firstReference = ReferenceCheck(scorer, model, reference, results, $"{name} GPU Score vs PyTorch"));

            // (b) Fresh random inputs at odd sizes, across block and chunk boundaries: GPU Score vs CPU PredictBatch.
            var sizes = new[] { 1, 7, block - 1, block + 1, 4099, Largest }.Where(n => n >= 1).Distinct().ToArray();
            foreach (var n in sizes)
            {
                var offset = offsets.Next(total, n);
                results.Try($"{name} Score n={n}", () => ScoreCheck(scorer, model, inputs, cpu, offset, n, results, $"{name} Score n={n}"));
            }
            // All the recurrent weights that fit a block in shared memory (more than the automatic default may stage)...
            var mostStaged = 0;
            results.Try($"{name} Score, StagedWeightBytesLimit = int.MaxValue", () =>
            {
                using var most = model.CreateCudaScorer(new CudaScorerOptions { CacheDirectory = cacheDir, StagedWeightBytesLimit = int.MaxValue });
                mostStaged = most.StagedWeightBytes;
                Console.WriteLine($"  StagedWeightBytesLimit = int.MaxValue: {mostStaged} bytes per block");
                foreach (var n in new[] { 4099, Largest })
                {
                    var offset = offsets.Next(total, n);
                    results.Try($"{name} Score n={n}, all staged that fits",
                        () => ScoreCheck(most, model, inputs, cpu, offset, n, results, $"{name} Score n={n}, all staged that fits"));
                }
            });
            // ...and other chunks with a third of that: the split between rows in shared and in global memory.
            var chunk = 8 * block;
            var staging = mostStaged / 3;
            var setup = $"SequencesPerChunk = {chunk}, StagedWeightBytesLimit = {staging}";
            results.Try($"{name} Score, {setup}", () =>
            {
                using var chunked = model.CreateCudaScorer(new CudaScorerOptions { CacheDirectory = cacheDir, SequencesPerChunk = chunk, StagedWeightBytesLimit = staging });
                foreach (var n in new[] { 4099, Largest })
                {
                    var offset = offsets.Next(total, n);
                    results.Try($"{name} Score n={n}, {setup}",
                        () => ScoreCheck(chunked, model, inputs, cpu, offset, n, results, $"{name} Score n={n}, {setup}"));
                }
            });

            // (c) ScoreAsync and the resident path compute what Score computes.
            foreach (var n in new[] { 4099, Largest })
            {
                var offset = offsets.Next(total, n);
                results.Try($"{name} ScoreAsync n={n}", () =>
                {
                    var (input, expected) = Slices(model, inputs, cpu, offset, n);
                    var sync = Data.Poisoned(n * model.OutputSize);
                    model.Score(scorer, input.Span, sync);
                    var outputs = Data.Poisoned(n * model.OutputSize + Guard);
                    model.ScoreAsync(scorer, input, outputs.AsMemory(0, n * model.OutputSize)).GetAwaiter().GetResult();
                    CompareSame(outputs, sync, expected, n, model, results, $"{name} ScoreAsync n={n}");
                });
            }
            foreach (var n in new[] { Math.Max(1, block - 1), 4099, Largest }.Distinct())
            {
                var a = offsets.Next(total, n);
                var b = offsets.Next(total, n);
                while (b == a) b = offsets.Next(total, n);
                results.Try($"{name} resident n={n}", () =>
                {
                    using var batch = scorer.AllocateBatch(n);
                    results.Expect(batch.Sequences == n, $"{name} AllocateBatch({n})", $"Sequences = {batch.Sequences}");

                    // Inputs A, ScoreResident. Then inputs B, MeasureResident: outputs not written by the second run would
                    // still hold A's results, and differ from B's.
                    foreach (var (offset, label) in new[] { (a, "ScoreResident"), (b, "MeasureResident") })
                    {
                        var (input, expected) = Slices(model, inputs, cpu, offset, n);
                        var sync = Data.Poisoned(n * model.OutputSize);
                        model.Score(scorer, input.Span, sync);
                        model.Upload(batch, input.Span);
                        var time = TimeSpan.Zero;
                        if (label == "ScoreResident") scorer.ScoreResident(batch);
                        else time = scorer.MeasureResident(batch);
                        var outputs = Data.Poisoned(n * model.OutputSize + Guard);
                        batch.Download(outputs.AsSpan(0, n * model.OutputSize));
                        CompareSame(outputs, sync, expected, n, model, results,
                            $"{name} Upload + {label} + Download n={n}" + (label == "MeasureResident" ? $" ({Fmt.F(time.TotalMilliseconds)} ms)" : ""));
                        if (label == "MeasureResident")
                            results.Expect(time > TimeSpan.Zero && time < TimeSpan.FromMinutes(1), $"{name} MeasureResident n={n} time",
                                $"{Fmt.F(time.TotalMilliseconds)} ms");
                    }
                });
            }

            // (e) Sequences of their own lengths, random from 1 to T, against the CPU's PredictBatch(inputs, lengths):
            // Score, ScoreAsync and a resident batch; and a masking twin (MaskZero) with tokens 0 among them.
            foreach (var n in new[] { block + 1, 4099, Largest })
            {
                var offset = offsets.Next(total, n);
                var input = inputs.AsMemory(offset * model.InputsPerSequence, n * model.InputsPerSequence);
                var lengths = Enumerable.Range(0, n).Select(_ => offsets.Length(model.SequenceLength)).ToArray();
                results.Try($"{name} lengths n={n}", () => LengthsCheck(scorer, model, input, lengths, results, $"{name} lengths n={n}"));
                if (model.Masked is { } masked && n == 4099)
                    results.Try($"{masked.Name} n={n}", () => MaskedCheck(masked, model, input, lengths, cacheOptions, results, $"{masked.Name} n={n}"));
            }
        }
        finally
        {
            // (d, second half) Dispose, then create again: the kernel comes from the disk cache.
            scorer.Dispose();
        }

        // The baseline: the cache as the first creation left it (the SequencesPerChunk scorer above must not have
        // rewritten it either).
        var before = cached ?? Snapshot(cacheDir);
        results.Try($"{name} re-create after Dispose", () =>
        {
            var again = Stopwatch.StartNew();
            using var second = model.CreateCudaScorer(cacheOptions);
            warmMs = again.Elapsed.TotalMilliseconds;
            if (reference is not null)
            {
                var outputs = ReferenceCheck(second, model, reference, results, $"{name} re-created scorer vs PyTorch");
                if (firstReference is not null)
                    results.Expect(Difference.Of(outputs, firstReference).Identical, $"{name} re-created scorer = first scorer",
                        Difference.Of(outputs, firstReference).ToString());
            }
            var offset = offsets.Next(total, 4099);
            ScoreCheck(second, model, inputs, cpu, offset, 4099, results, $"{name} re-created scorer, Score n=4099");
        });
        var after = Snapshot(cacheDir);
        results.Expect(before.Count > 0 && SameFiles(before, after), $"{name} later creations in this process reused the cache",
            SnapshotDiff(before, after));

        results.Try($"{name} creation in a fresh process", () =>
        {
            var (exitCode, output, wallMs) = RunChild(name, cacheDir);
            var line = output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("create_ms=", StringComparison.Ordinal));
            if (line is not null) childMs = double.Parse(line.Substring("create_ms=".Length), CultureInfo.InvariantCulture);
            results.Expect(exitCode == 0 && line is not null, $"{name} fresh process: CreateCudaScorer from the cache + PyTorch reference",
                $"exit code {exitCode}, process {Fmt.F(wallMs, "0")} ms; {string.Join(" | ", output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}");
            var afterChild = Snapshot(cacheDir);
            results.Expect(SameFiles(before, afterChild), $"{name} fresh process reused the cache", SnapshotDiff(before, afterChild));
        });

        Console.WriteLine($"  CreateCudaScorer: empty cache {Fmt.F(coldMs, "0.0")} ms, again after Dispose {(warmMs is { } w ? Fmt.F(w, "0.0") : "-")} ms, " +
                          $"fresh process {(childMs is { } c ? Fmt.F(c, "0.0") : "-")} ms (a fresh process also creates its CUDA context)");
        if (warmMs is { } warm && warm >= coldMs / 2)
            Console.WriteLine($"  note: re-creation from the cache was not much faster than the first creation ({Fmt.F(warm, "0.0")} vs {Fmt.F(coldMs, "0.0")} ms)");
    }

    /// <summary>The <c>create-time</c> mode, run by <c>check</c> in a child process: a scorer from an existing cache.</summary>
    public static int CreateTimeChild(Options options)
    {
        var model = options.Models(BenchModel.All).Single();
        var cache = options.Get("cache") ?? throw new UsageException("create-time needs --cache DIR");
        var clock = Stopwatch.StartNew();
        using var scorer = model.CreateCudaScorer(new CudaScorerOptions { CacheDirectory = cache });
        var ms = clock.Elapsed.TotalMilliseconds;
        var reference = Reference.Load(model);
        var outputs = Data.Poisoned(reference.Sequences * model.OutputSize);
        model.Score(scorer, reference.Input, outputs);
        var d = Difference.Of(outputs, reference.Expected);
        Console.WriteLine($"create_ms={Fmt.F(ms, "0.0")}");
        Console.WriteLine($"vs PyTorch: {d}");
        return d.Within(Tolerance) ? 0 : 1;
    }

    private static (int ExitCode, string Output, double WallMs) RunChild(string model, string cacheDir)
    {
        var exe = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(exe) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet")
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "StaticRnn.CudaBench.dll"));
        foreach (var a in new[] { "create-time", "--model", model, "--cache", cacheDir })
            start.ArgumentList.Add(a);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {exe}");
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("the child process ran over 120 s");
        }
        process.WaitForExit();
        return (process.ExitCode, stdout.Result + stderr.Result, clock.Elapsed.TotalMilliseconds);
    }

    private static float[] ReferenceCheck(CudaScorer scorer, BenchModel model, Reference reference, Results results, string what)
    {
        var outputs = Data.Poisoned(reference.Sequences * model.OutputSize + Guard);
        model.Score(scorer, reference.Input, outputs.AsSpan(0, reference.Sequences * model.OutputSize));
        var d = Difference.Of(outputs.AsSpan(0, reference.Sequences * model.OutputSize), reference.Expected);
        var past = Difference.CountWritten(outputs.AsSpan(reference.Sequences * model.OutputSize));
        results.Expect(d.Within(Tolerance) && past == 0, what, $"{d} ({reference.Sequences} sequences){PastEnd(past)}");
        return outputs.AsSpan(0, reference.Sequences * model.OutputSize).ToArray();
    }

    private static void ScoreCheck(CudaScorer scorer, BenchModel model, float[] inputs, float[] cpu, int offset, int n, Results results, string what)
    {
        var (input, expected) = Slices(model, inputs, cpu, offset, n);
        var outputs = Data.Poisoned(n * model.OutputSize + Guard);
        var clock = Stopwatch.StartNew();
        model.Score(scorer, input.Span, outputs.AsSpan(0, n * model.OutputSize));
        var ms = clock.Elapsed.TotalMilliseconds;
        var d = Difference.Of(outputs.AsSpan(0, n * model.OutputSize), expected.Span);
        var past = Difference.CountWritten(outputs.AsSpan(n * model.OutputSize));
        results.Expect(d.Within(Tolerance) && past == 0, what, $"vs CPU {d}{PastEnd(past)} ({Fmt.F(ms, "0.0")} ms)");
    }

    /// <summary>Sequences of their own lengths through Score, ScoreAsync and Upload + ScoreResident + Download.</summary>
    private static void LengthsCheck(CudaScorer scorer, BenchModel model, ReadOnlyMemory<float> input, int[] lengths, Results results, string what)
    {
        var n = lengths.Length;
        var expected = new float[n * model.OutputSize];
        model.PredictBatchLengths(input.Span, lengths, expected);
        var outputs = Data.Poisoned(n * model.OutputSize + Guard);
        model.Score(scorer, input.Span, lengths, outputs.AsSpan(0, n * model.OutputSize));
        var d = Difference.Of(outputs.AsSpan(0, n * model.OutputSize), expected);
        var past = Difference.CountWritten(outputs.AsSpan(n * model.OutputSize));
        results.Expect(d.Within(Tolerance) && past == 0, $"{what} Score", $"vs CPU PredictBatch(lengths) {d}{PastEnd(past)}");
        var sync = outputs.AsSpan(0, n * model.OutputSize).ToArray();

        var asynchronous = Data.Poisoned(n * model.OutputSize + Guard);
        model.ScoreAsync(scorer, input, lengths, asynchronous.AsMemory(0, n * model.OutputSize)).GetAwaiter().GetResult();
        CompareSame(asynchronous, sync, expected, n, model, results, $"{what} ScoreAsync");

        using var batch = scorer.AllocateBatch(n);
        model.Upload(batch, input.Span, lengths);
        scorer.ScoreResident(batch);
        var resident = Data.Poisoned(n * model.OutputSize + Guard);
        batch.Download(resident.AsSpan(0, n * model.OutputSize));
        CompareSame(resident, sync, expected, n, model, results, $"{what} Upload(lengths) + ScoreResident + Download");
    }

    /// <summary>The masking twin of a token model on the same tokens with about a third of them 0 (every fifth sequence
    /// pre-padded): GPU vs its CPU path, without and with lengths.</summary>
    private static void MaskedCheck(MaskedModel masked, BenchModel model, ReadOnlyMemory<float> input, int[] lengths, CudaScorerOptions options,
        Results results, string what)
    {
        var tokens = MemoryMarshal.Cast<float, int>(input.Span).ToArray();
        var steps = model.SequenceLength;
        for (var i = 0; i < tokens.Length; i++)
        {
            if (i % 3 == 1 || (i / steps % 5 == 0 && i % steps < steps / 2))
                tokens[i] = 0;
        }
        var n = lengths.Length;
        using var scorer = masked.CreateCudaScorer(options);
        foreach (var withLengths in new[] { false, true })
        {
            var given = withLengths ? lengths : Enumerable.Repeat(steps, n).ToArray();
            // Padded with 0, as Keras's pad_sequences does.
            for (var s = 0; s < n; s++)
                Array.Clear(tokens, s * steps + given[s], steps - given[s]);
            var floats = MemoryMarshal.Cast<int, float>(tokens.AsSpan()).ToArray();
            var expected = new float[n * model.OutputSize];
            masked.PredictBatch(floats, given, expected);
            var outputs = Data.Poisoned(n * model.OutputSize + Guard);
            if (withLengths) scorer.Score(tokens, given, outputs.AsSpan(0, n * model.OutputSize));
            else scorer.Score(tokens, outputs.AsSpan(0, n * model.OutputSize));
            var d = Difference.Of(outputs.AsSpan(0, n * model.OutputSize), expected);
            var past = Difference.CountWritten(outputs.AsSpan(n * model.OutputSize));
            results.Expect(d.Within(Tolerance) && past == 0, $"{what}{(withLengths ? " with lengths" : "")}", $"vs CPU {d}{PastEnd(past)}");
        }
    }

    /// <summary>Outputs of another path: within the tolerance of the CPU, and the same numbers as <c>Score</c>.</summary>
    private static void CompareSame(float[] outputs, float[] sync, ReadOnlyMemory<float> expected, int n, BenchModel model, Results results, string what)
    {
        var span = outputs.AsSpan(0, n * model.OutputSize);
        var vsCpu = Difference.Of(span, expected.Span);
        var vsScore = Difference.Of(span, sync);
        var past = Difference.CountWritten(outputs.AsSpan(n * model.OutputSize));
        results.Expect(vsCpu.Within(Tolerance) && vsScore.Within(Tolerance) && past == 0, what,
            $"vs CPU {vsCpu}; vs Score {(vsScore.Identical ? "identical" : vsScore.ToString())}{PastEnd(past)}");
    }

    private static string PastEnd(long written) => written == 0 ? "" : $"; {written} floats written past the end of the outputs";

    private static (ReadOnlyMemory<float> Input, ReadOnlyMemory<float> Expected) Slices(BenchModel model, float[] inputs, float[] cpu, int offset, int n) =>
        (inputs.AsMemory(offset * model.InputsPerSequence, n * model.InputsPerSequence),
         cpu.AsMemory(offset * model.OutputSize, n * model.OutputSize));

    /// <summary>Where each batch starts in the random inputs: a random sequence index, from the run's seed.</summary>
    private sealed class Offsets(ulong seed)
    {
        private Pcg32 _rng = new(seed, 0x5eed);

        public int Next(int total, int n) => (int)(_rng.NextUInt32() % (uint)(total - n + 1));

        /// <summary>A sequence length from 1 to <paramref name="steps"/>.</summary>
        public int Length(int steps) => 1 + (int)(_rng.NextUInt32() % (uint)steps);
    }

    private const BindingFlags AnyMember = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;

    private const string ReflectionJustification =
        "A best-effort look-up with a fallback: where trimming removed the member, the check assumes 128 (or --block).";

    /// <summary>Sequences per CUDA block: --block, else what the scorer or the generated kernel definition says
    /// (found by reflection, as the public API does not expose it), else 128 (the generator's largest).</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = ReflectionJustification)]
    private static (int Block, string Source) SequencesPerBlock(BenchModel model, CudaScorer scorer, Options options)
    {
        if (options.Get("block") is not null) return (options.GetInt("block", 128), "--block");
        try
        {
            if (FindSequencesPerBlock(scorer, 2) is { } fromScorer) return (fromScorer, "the scorer");
            var kernel = model.Class.GetProperty("CudaKernel", AnyMember)?.GetValue(null);
            if (kernel is not null && FindSequencesPerBlock(kernel, 0) is { } fromKernel) return (fromKernel, $"{model.Class.Name}.CudaKernel");
        }
        catch (Exception e) when (e is TargetInvocationException or MemberAccessException or ArgumentException)
        {
        }
        return (128, "not found by reflection: assumed 128, the generator's largest; --block N to set");
    }

    /// <summary>A property or field named SequencesPerBlock on obj, or (depth > 0) on one of its fields' values.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2075", Justification = ReflectionJustification)]
    private static int? FindSequencesPerBlock(object obj, int depth)
    {
        var type = obj.GetType();
        var property = type.GetProperty("SequencesPerBlock", AnyMember);
        if (property?.GetMethod is { } getter && property.GetIndexParameters().Length == 0 &&
            getter.Invoke(getter.IsStatic ? null : obj, null) is int p && p > 0)
            return p;
        var fields = type.GetFields(AnyMember);
        var field = fields.FirstOrDefault(f => f.Name.Contains("SequencesPerBlock", StringComparison.OrdinalIgnoreCase));
        if (field?.GetValue(field.IsStatic ? null : obj) is int f && f > 0) return f;
        if (depth == 0) return null;
        foreach (var member in fields.Where(f => !f.IsStatic && !f.FieldType.IsPrimitive && f.FieldType != typeof(string)))
        {
            if (member.GetValue(obj) is { } value && FindSequencesPerBlock(value, depth - 1) is { } inner) return inner;
        }
        return null;
    }

    private static Dictionary<string, (long Length, DateTime Written)> Snapshot(string dir) =>
        Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).ToDictionary(
                f => Path.GetRelativePath(dir, f), f => (new FileInfo(f).Length, File.GetLastWriteTimeUtc(f)))
            : new();

    private static bool SameFiles(Dictionary<string, (long, DateTime)> a, Dictionary<string, (long, DateTime)> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && v == kv.Value);

    private static string SnapshotDiff(Dictionary<string, (long Length, DateTime Written)> a, Dictionary<string, (long Length, DateTime Written)> b)
    {
        var added = b.Keys.Except(a.Keys).ToArray();
        var removed = a.Keys.Except(b.Keys).ToArray();
        var changed = a.Keys.Intersect(b.Keys).Where(k => a[k] != b[k]).ToArray();
        if (added.Length + removed.Length + changed.Length == 0)
            return $"{a.Count} cached file(s) unchanged ({string.Join(", ", a.Select(kv => $"{kv.Key} {kv.Value.Length} B"))})";
        return $"added [{string.Join(", ", added)}], removed [{string.Join(", ", removed)}], rewritten [{string.Join(", ", changed)}]";
    }
}
