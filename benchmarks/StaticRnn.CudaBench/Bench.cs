using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Linq;
using System.Text.Json;
using StaticRnn.Cuda;

namespace StaticRnn.CudaBench;

/// <summary>The <c>bench</c> mode: device-resident time (CUDA events) and end-to-end <c>Score</c> time from host memory,
/// with the recurrent weights staged in shared memory as the default chooses (what keeps the blocks per multiprocessor);
/// the resident time again with staging off and with all that fits staged (fewer blocks per multiprocessor), since
/// which pays is for the device to say.</summary>
public static class Bench
{
    private const int InputSets = 3;

    /// <summary>Sequences of each input set checked against the CPU after the timed runs.</summary>
    private const int Checked = 256;

    private sealed record Row(BenchModel Model, double CreateMs, int StagedBytes, Timing Resident, Timing? Unstaged, int MostStagedBytes,
        Timing? MostStaged, Timing Score, int Batch, LengthTimings Lengths)
    {
        public double ResidentSeqPerSecond => Batch / (Resident.Median / 1e3);
        public double ScoreSeqPerSecond => Batch / (Score.Median / 1e3);
        public double ResidentGflops => Model.FlopsPerSequence * (double)Batch / (Resident.Median / 1e3) / 1e9;
        public double TransferMs => Score.Median - Resident.Median;
    }

    /// <summary>Sequences of their own lengths, uniform in 1 .. T (about half the steps): Score (which stages each chunk
    /// longest first), and the kernel alone on a resident batch uploaded in the caller's order and longest first.</summary>
    private sealed record LengthTimings(Timing Score, Timing ResidentAsGiven, Timing ResidentLongestFirst, double StepShare);

    public static int Run(Options options)
    {
        if (!CudaDevice.IsAvailable(out var reason))
        {
            Console.WriteLine($"CUDA unavailable: {reason}");
            Console.WriteLine("no CUDA device: nothing timed");
            return 1;
        }
        var repeats = options.GetInt("repeats", 20);
        var warmup = options.GetInt("warmup", 3);
        var batch = options.GetInt("batch", 65536);
        var seed = options.GetSeed() ?? Data.FreshSeed();
        var models = options.Models(BenchModel.Benchmarks);   // the check-only models are not timed
        var failures = new List<string>();
        Console.WriteLine($"StaticRnn.CudaBench bench ({Fmt.Version}): batch {batch}, {warmup} warm-up + {repeats} timed runs per path, " +
                          $"rotating among {InputSets} input sets, seed {seed}");

        var inputsBySize = new Dictionary<int, float[][]>();
        var rows = new List<Row>();
        string device = "?", capability = "?";
        foreach (var model in models)
        {
            if (!inputsBySize.TryGetValue(model.InputsPerSequence, out var inputs))
            {
                var fill = Stopwatch.StartNew();
                inputs = Enumerable.Range(0, InputSets).Select(s => Data.RandomInputs(batch, model.InputsPerSequence, seed + (ulong)s)).ToArray();
                inputsBySize[model.InputsPerSequence] = inputs;
                Console.WriteLine($"{InputSets} x {batch} random sequences ({(long)InputSets * batch * model.InputsPerSequence * 4 / (1 << 20)} MiB) in {fill.ElapsedMilliseconds} ms");
            }
            try
            {
                var row = Measure(model, inputs, batch, warmup, repeats, failures, ref device, ref capability);
                rows.Add(row);
            }
            catch (Exception e)
            {
                Console.WriteLine($"{model.Name}: FAILED: {e}");
                failures.Add($"{model.Name}: {e.GetType().Name}: {e.Message}");
            }
        }

        Console.WriteLine();
        Console.WriteLine($"StaticRnn CUDA, {device} (compute capability {capability}), batch {batch}, T = {models.FirstOrDefault()?.SequenceLength}, " +
                          $"median of {repeats} (min-max)");
        Console.WriteLine();
        Console.WriteLine("| model | staged KiB | resident ms | resident seq/s | resident GFLOP/s | resident ms, staging off | resident ms, all that fits staged (KiB) | Score ms (from host) | Score seq/s | host/transfer ms (share) | create ms |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            var unstaged = r.Unstaged is { } u ? $"{Fmt.F(u.Median)} ({Fmt.F(u.Min)}-{Fmt.F(u.Max)})" : "-";
            var most = r.MostStaged is { } m ? $"{Fmt.F(m.Median)} ({Fmt.F(m.Min)}-{Fmt.F(m.Max)}; {Fmt.F(r.MostStagedBytes / 1024.0, "0")})" : "-";
            Console.WriteLine($"| {r.Model.Name} | {Fmt.F(r.StagedBytes / 1024.0, "0")} | {Fmt.F(r.Resident.Median)} ({Fmt.F(r.Resident.Min)}-{Fmt.F(r.Resident.Max)}) | " +
                              $"{Fmt.Rate(r.ResidentSeqPerSecond)} | {Fmt.F(r.ResidentGflops, "0")} | {unstaged} | {most} | " +
                              $"{Fmt.F(r.Score.Median)} ({Fmt.F(r.Score.Min)}-{Fmt.F(r.Score.Max)}) | {Fmt.Rate(r.ScoreSeqPerSecond)} | " +
                              $"{Fmt.F(r.TransferMs)} ({Fmt.F(100 * r.TransferMs / r.Score.Median, "0")}%) | {Fmt.F(r.CreateMs, "0")} |");
        }
        Console.WriteLine();
        Console.WriteLine("Sequences of their own lengths (uniform 1 .. T), median ms:");
        Console.WriteLine();
        Console.WriteLine("| model | real steps | Score, full length | Score, lengths | resident, full length | resident, lengths in the caller's order | resident, lengths longest first |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            Console.WriteLine($"| {r.Model.Name} | {Fmt.F(100 * r.Lengths.StepShare, "0")}% | {Fmt.F(r.Score.Median)} | {Fmt.F(r.Lengths.Score.Median)} | " +
                              $"{Fmt.F(r.Resident.Median)} | {Fmt.F(r.Lengths.ResidentAsGiven.Median)} | {Fmt.F(r.Lengths.ResidentLongestFirst.Median)} |");
        }

        if (options.Get("json") is { } path)
        {
            Fmt.WriteJsonFile(path, json =>
            {
                json.WriteStartObject();
                json.WriteString("tool", "StaticRnn.CudaBench");
                json.WriteString("version", Fmt.Version);
                json.WriteString("device", device);
                json.WriteString("computeCapability", capability);
                json.WriteNumber("batch", batch);
                json.WriteNumber("repeats", repeats);
                json.WriteNumber("warmup", warmup);
                json.WriteNumber("inputSets", InputSets);
                json.WriteString("seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture));
                json.WriteString("residentTiming", "CudaScorer.MeasureResident (CUDA events), inputs and outputs already on the device");
                json.WriteString("scoreTiming", "Stopwatch around CudaScorer.Score from managed host arrays (host-to-device, kernels, device-to-host)");
                json.WriteStartArray("models");
                foreach (var r in rows)
                {
                    json.WriteStartObject();
                    json.WriteString("name", r.Model.Name);
                    json.WriteString("cell", r.Model.Cell);
                    json.WriteNumber("inputSize", r.Model.InputSize);
                    json.WriteNumber("hidden", r.Model.Hidden);
                    json.WriteNumber("sequenceLength", r.Model.SequenceLength);
                    json.WriteNumber("outputSize", r.Model.OutputSize);
                    json.WriteNumber("flopsPerSequence", r.Model.FlopsPerSequence);
                    json.WriteNumber("createMs", r.CreateMs);
                    json.WriteNumber("stagedWeightBytes", r.StagedBytes);
                    r.Resident.Write(json, "residentMs");
                    r.Unstaged?.Write(json, "residentUnstagedMs");
                    if (r.MostStaged is not null)
                    {
                        json.WriteNumber("mostStagedWeightBytes", r.MostStagedBytes);
                        r.MostStaged.Write(json, "residentMostStagedMs");
                    }
                    r.Score.Write(json, "scoreMs");
                    json.WriteNumber("lengthsStepShare", r.Lengths.StepShare);
                    r.Lengths.Score.Write(json, "scoreLengthsMs");
                    r.Lengths.ResidentAsGiven.Write(json, "residentLengthsAsGivenMs");
                    r.Lengths.ResidentLongestFirst.Write(json, "residentLengthsLongestFirstMs");
                    json.WriteNumber("residentSeqPerSecond", r.ResidentSeqPerSecond);
                    json.WriteNumber("scoreSeqPerSecond", r.ScoreSeqPerSecond);
                    json.WriteNumber("residentGflops", r.ResidentGflops);
                    json.WriteNumber("transferMs", r.TransferMs);
                    json.WriteEndObject();
                }
                json.WriteEndArray();
                json.WriteStartArray("failures");
                foreach (var f in failures) json.WriteStringValue(f);
                json.WriteEndArray();
                json.WriteEndObject();
            });
            Console.WriteLine();
            Console.WriteLine($"JSON: {path}");
        }

        if (failures.Count > 0)
        {
            Console.WriteLine($"FAILED ({failures.Count}):");
            foreach (var f in failures) Console.WriteLine($"  - {f}");
            return 1;
        }
        return 0;
    }

    private static Row Measure(BenchModel model, float[][] inputs, int batch, int warmup, int repeats, List<string> failures,
        ref string device, ref string capability)
    {
        Console.WriteLine();
        Console.WriteLine($"{model.Name}:");
        // The CPU's outputs for the first sequences of each set: every timed run's outputs are checked afterwards.
        var cpu = inputs.Select(set => Data.CpuOutputs(model, set, Checked)).ToArray();

        var clock = Stopwatch.StartNew();
        using var scorer = model.CreateCudaScorer(null);
        var createMs = clock.Elapsed.TotalMilliseconds;
        device = scorer.DeviceName;
        capability = scorer.ComputeCapability;
        Console.WriteLine($"  CreateCudaScorer: {Fmt.F(createMs, "0.0")} ms");

        var outputSize = model.OutputSize;
        var outputs = Data.Poisoned(batch * outputSize);

        void Verify(string what, int set)
        {
            long nan = 0;
            foreach (var v in outputs) if (!float.IsFinite(v)) nan++;
            var d = Difference.Of(outputs.AsSpan(0, Checked * outputSize), cpu[set]);
            if (nan > 0 || !d.Within(Check.Tolerance))
            {
                var message = $"{model.Name} {what}, input set {set}: {nan} outputs not finite; first {Checked} sequences vs CPU {d}";
                Console.WriteLine($"  FAIL {message}");
                failures.Add(message);
            }
        }

        // Device-resident: each set uploaded once, into its own batch of the scorer that times it.
        Timing Resident(CudaScorer timed, string what)
        {
            var batches = new List<CudaBatch>();
            try
            {
                foreach (var set in inputs)
                {
                    var b = timed.AllocateBatch(batch);
                    batches.Add(b);
                    b.Upload(set);
                }
                for (var i = 0; i < warmup; i++)
                    timed.MeasureResident(batches[i % InputSets]);
                var resident = new double[repeats];
                for (var i = 0; i < repeats; i++)
                    resident[i] = timed.MeasureResident(batches[i % InputSets]).TotalMilliseconds;
                for (var s = 0; s < InputSets; s++)
                {
                    outputs.AsSpan().Fill(float.NaN);
                    batches[s].Download(outputs);
                    Verify(what, s);
                }
                var timing = new Timing(resident);
                Console.WriteLine($"  {what + ":",-24} median {Fmt.F(timing.Median)} ms ({Fmt.F(timing.Min)}-{Fmt.F(timing.Max)})");
                return timing;
            }
            finally
            {
                foreach (var b in batches) b.Dispose();
            }
        }

        Console.WriteLine($"  staged recurrent weights: {scorer.StagedWeightBytes} bytes per block");
        var residentTiming = Resident(scorer, "resident");
        Timing? unstagedTiming = null;
        if (scorer.StagedWeightBytes > 0)
        {
            using var unstaged = model.CreateCudaScorer(new CudaScorerOptions { StagedWeightBytesLimit = 0 });
            unstagedTiming = Resident(unstaged, "resident, staging off");
        }
        Timing? mostTiming = null;
        int mostBytes;
        using (var most = model.CreateCudaScorer(new CudaScorerOptions { StagedWeightBytesLimit = int.MaxValue }))
        {
            mostBytes = most.StagedWeightBytes;
            Console.WriteLine($"  all that fits staged: {mostBytes} bytes per block");
            if (mostBytes != scorer.StagedWeightBytes)
                mostTiming = Resident(most, "resident, all staged");
        }

        // End to end from managed host memory: poisoned outputs before every run, checked after it (outside the timing).
        for (var i = 0; i < warmup; i++)
            scorer.Score(inputs[i % InputSets], outputs);
        var score = new double[repeats];
        for (var i = 0; i < repeats; i++)
        {
            outputs.AsSpan().Fill(float.NaN);
            var start = Stopwatch.GetTimestamp();
            scorer.Score(inputs[i % InputSets], outputs);
            score[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            Verify($"Score run {i}", i % InputSets);
        }
        var scoreTiming = new Timing(score);
        Console.WriteLine($"  {"Score:",-24} median {Fmt.F(scoreTiming.Median)} ms ({Fmt.F(scoreTiming.Min)}-{Fmt.F(scoreTiming.Max)})");
        var lengths = MeasureLengths(model, scorer, inputs[0], batch, warmup, repeats, failures);
        return new Row(model, createMs, scorer.StagedWeightBytes, residentTiming, unstagedTiming, mostBytes, mostTiming, scoreTiming, batch, lengths);
    }

    /// <summary>The first input set with random lengths: Score and MeasureResident (in the caller's order, and with the
    /// sequences sorted longest first before the upload), each run's first sequences checked against the CPU.</summary>
    private static LengthTimings MeasureLengths(BenchModel model, CudaScorer scorer, float[] inputs, int batch, int warmup, int repeats,
        List<string> failures)
    {
        var steps = model.SequenceLength;
        var random = new Pcg32(17, 0x1e9);
        var lengths = Enumerable.Range(0, batch).Select(_ => 1 + (int)(random.NextUInt32() % (uint)steps)).ToArray();
        var byLength = Enumerable.Range(0, batch).OrderByDescending(i => lengths[i]).ToArray();
        var per = model.InputsPerSequence;
        var sortedInputs = new float[batch * per];
        for (var j = 0; j < batch; j++)
            inputs.AsSpan(byLength[j] * per, per).CopyTo(sortedInputs.AsSpan(j * per, per));
        var sortedLengths = byLength.Select(i => lengths[i]).ToArray();
        var outputs = Data.Poisoned(batch * model.OutputSize);

        void Verify(string what, float[] source, int[] given)
        {
            var expected = new float[Checked * model.OutputSize];
            model.PredictBatchLengths(source.AsSpan(0, Checked * model.InputsPerSequence), given.AsSpan(0, Checked), expected);
            var d = Difference.Of(outputs.AsSpan(0, Checked * model.OutputSize), expected);
            if (!d.Within(Check.Tolerance))
            {
                var message = $"{model.Name} {what}: first {Checked} sequences vs CPU PredictBatch(lengths) {d}";
                Console.WriteLine($"  FAIL {message}");
                failures.Add(message);
            }
        }

        Timing Time(string what, Func<double> run, float[] source, int[] given)
        {
            for (var i = 0; i < warmup; i++)
                run();
            var samples = new double[repeats];
            for (var i = 0; i < repeats; i++)
            {
                outputs.AsSpan().Fill(float.NaN);
                samples[i] = run();
            }
            Verify(what, source, given);
            var timing = new Timing(samples);
            Console.WriteLine($"  {what + ":",-40} median {Fmt.F(timing.Median)} ms ({Fmt.F(timing.Min)}-{Fmt.F(timing.Max)})");
            return timing;
        }

        var scoreTiming = Time("Score, lengths 1..T", () =>
        {
            var start = Stopwatch.GetTimestamp();
            model.Score(scorer, inputs, lengths, outputs);
            return Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }, inputs, lengths);
        Timing Resident(string what, float[] source, int[] given)
        {
            using var resident = scorer.AllocateBatch(batch);
            model.Upload(resident, source, given);
            return Time(what, () =>
            {
                var milliseconds = scorer.MeasureResident(resident).TotalMilliseconds;
                resident.Download(outputs);
                return milliseconds;
            }, source, given);
        }
        var asGiven = Resident("resident, lengths in the caller's order", inputs, lengths);
        var longestFirst = Resident("resident, lengths longest first", sortedInputs, sortedLengths);
        return new LengthTimings(scoreTiming, asGiven, longestFirst, lengths.Average() / steps);
    }
}
