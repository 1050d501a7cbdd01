using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;
using StaticRnn.ColdStart;

// Cold start, measured as a user meets it. Every measurement runs in a fresh process of this app with the
// runtime's default settings (add --env NAME=VALUE to change one, e.g. DOTNET_TieredCompilation=0):
//
//   dotnet run -c Release --project benchmarks/StaticRnn.ColdStart -- [--runs N] [--entries predict,batch,step] [model ...]
//       per model and entry: the first call (type initialisation and JIT included), the median call over the first
//       250 ms, the steady state (median over 0.5 s after 2 s of calls), median of N processes each
//   dotnet publish -c Release -o artifacts/coldstart benchmarks/StaticRnn.ColdStart
//   artifacts/coldstart/StaticRnn.ColdStart --startup [--runs N] [model ...]
//       wall time from process start to exit of the published app making one prediction, against the same app
//       printing "hello" and touching no model
//
// The child modes (--child, --once, --hello) are what the parent starts. To see what a first call compiles and what
// each method costs: dotnet StaticRnn.ColdStart.dll --child sine_lstm predict --jit

var arguments = new List<string>(args);
if (arguments.Count > 0 && arguments[0] == "--child")
    return Child.Measure(arguments[1], arguments[2], jitLog: arguments.Contains("--jit"));
if (arguments.Count > 0 && arguments[0] == "--once")
    return Child.Once(arguments[1]);
if (arguments.Count > 0 && arguments[0] == "--hello")
{
    Console.WriteLine("hello");
    return 0;
}
return Parent.Run(arguments);

namespace StaticRnn.ColdStart
{
    /// <summary>One model's entry points as a user calls them, over inputs made once.</summary>
    internal sealed record ModelCase(string Name, Action Predict, Action Batch, Action Step);

    internal static class Cases
    {
        public const int Batch = 64;

        public static readonly string[] Names = ["sine_rnn", "sine_lstm", "sine_gru", "lstm_16_64", "gru_16_64", "lstm_64_128", "gru_64_128", "sentiment", "char_lstm", "dates"];

        public static ModelCase Get(string name) => name switch
        {
            "sine_rnn" => Floats(name, SineRnn.SequenceLength, SineRnn.InputSize, SineRnn.OutputSize, SineRnn.StepOutputSize,
                (x, y) => SineRnn.Predict(x, y), (x, y) => SineRnn.PredictBatch(x, y), Stepper<SineRnn.State>((ref SineRnn.State s, ReadOnlySpan<float> x, Span<float> y) => SineRnn.Step(ref s, x, y))),
            "sine_lstm" => Floats(name, SineLstm.SequenceLength, SineLstm.InputSize, SineLstm.OutputSize, SineLstm.StepOutputSize,
                (x, y) => SineLstm.Predict(x, y), (x, y) => SineLstm.PredictBatch(x, y), Stepper<SineLstm.State>((ref SineLstm.State s, ReadOnlySpan<float> x, Span<float> y) => SineLstm.Step(ref s, x, y))),
            "sine_gru" => Floats(name, SineGru.SequenceLength, SineGru.InputSize, SineGru.OutputSize, SineGru.StepOutputSize,
                (x, y) => SineGru.Predict(x, y), (x, y) => SineGru.PredictBatch(x, y), Stepper<SineGru.State>((ref SineGru.State s, ReadOnlySpan<float> x, Span<float> y) => SineGru.Step(ref s, x, y))),
            "lstm_16_64" => Floats(name, Lstm16x64.SequenceLength, Lstm16x64.InputSize, Lstm16x64.OutputSize, Lstm16x64.StepOutputSize,
                (x, y) => Lstm16x64.Predict(x, y), (x, y) => Lstm16x64.PredictBatch(x, y), Stepper<Lstm16x64.State>((ref Lstm16x64.State s, ReadOnlySpan<float> x, Span<float> y) => Lstm16x64.Step(ref s, x, y))),
            "gru_16_64" => Floats(name, Gru16x64.SequenceLength, Gru16x64.InputSize, Gru16x64.OutputSize, Gru16x64.StepOutputSize,
                (x, y) => Gru16x64.Predict(x, y), (x, y) => Gru16x64.PredictBatch(x, y), Stepper<Gru16x64.State>((ref Gru16x64.State s, ReadOnlySpan<float> x, Span<float> y) => Gru16x64.Step(ref s, x, y))),
            "lstm_64_128" => Floats(name, Lstm64x128.SequenceLength, Lstm64x128.InputSize, Lstm64x128.OutputSize, Lstm64x128.StepOutputSize,
                (x, y) => Lstm64x128.Predict(x, y), (x, y) => Lstm64x128.PredictBatch(x, y), Stepper<Lstm64x128.State>((ref Lstm64x128.State s, ReadOnlySpan<float> x, Span<float> y) => Lstm64x128.Step(ref s, x, y))),
            "gru_64_128" => Floats(name, Gru64x128.SequenceLength, Gru64x128.InputSize, Gru64x128.OutputSize, Gru64x128.StepOutputSize,
                (x, y) => Gru64x128.Predict(x, y), (x, y) => Gru64x128.PredictBatch(x, y), Stepper<Gru64x128.State>((ref Gru64x128.State s, ReadOnlySpan<float> x, Span<float> y) => Gru64x128.Step(ref s, x, y))),
            "sentiment" => Tokens(name, Sentiment.SequenceLength, Sentiment.VocabularySize, Sentiment.OutputSize, Sentiment.StepOutputSize,
                (x, y) => Sentiment.Predict(x, y), (x, y) => Sentiment.PredictBatch(x, y), TokenStepper<Sentiment.State>((ref Sentiment.State s, int t, Span<float> y) => Sentiment.Step(ref s, t, y))),
            "char_lstm" => Tokens(name, 100, CharLstm.VocabularySize, CharLstm.OutputSize, CharLstm.StepOutputSize,
                null, null, TokenStepper<CharLstm.State>((ref CharLstm.State s, int t, Span<float> y) => CharLstm.Step(ref s, t, y))),
            "dates" => Dates(),
            _ => throw new ArgumentException($"Unknown model '{name}'; known: {string.Join(", ", Names)}."),
        };

        private delegate void Run<TIn>(ReadOnlySpan<TIn> input, Span<float> output);
        private delegate void StepFloats<TState>(ref TState state, ReadOnlySpan<float> x, Span<float> y);
        private delegate void StepToken<TState>(ref TState state, int token, Span<float> y);

        // Step cases feed one sequence of SequenceLength steps again and again, from a fresh state each time.
        private static Func<float[], int, int, int, Action> Stepper<TState>(StepFloats<TState> step) where TState : struct =>
            (inputs, steps, inputSize, outputSize) =>
            {
                var state = default(TState);
                var y = new float[outputSize];
                var t = 0;
                return () =>
                {
                    if (t == steps)
                    {
                        t = 0;
                        state = default;
                    }
                    step(ref state, inputs.AsSpan(t++ * inputSize, inputSize), y);
                };
            };

        private static Func<int[], int, int, Action> TokenStepper<TState>(StepToken<TState> step) where TState : struct =>
            (tokens, steps, outputSize) =>
            {
                var state = default(TState);
                var y = new float[outputSize];
                var t = 0;
                return () =>
                {
                    if (t == steps)
                    {
                        t = 0;
                        state = default;
                    }
                    step(ref state, tokens[t++], y);
                };
            };

        /// <summary>The encoder-decoder: "predict" translates "saturday 17 june 1989" greedily; "step" is one DecodeStep,
        /// MaxLength of them from one encoded state, then from it again.</summary>
        private static ModelCase Dates()
        {
            // The sample's tokens: 0 padding, 1 EOS, then " ,-./0123456789" and the letters in order.
            const string Characters = " ,-./0123456789abcdefghijlmnoprstuvwy";
            var text = "saturday 17 june 1989";
            var source = new int[DateDecoder.SourceLength];
            for (var i = 0; i < text.Length; i++)
                source[i] = 2 + Characters.IndexOf(text[i]);
            source[text.Length] = 1;
            var target = new int[DateDecoder.MaxLength];
            var encoded = default(DateDecoder.State);
            var state = default(DateDecoder.State);
            var logits = new float[DateDecoder.VocabularySize];
            var weights = new float[DateDecoder.SourceLength];
            var steps = DateDecoder.MaxLength;
            var token = DateDecoder.StartToken;
            var isEncoded = false;
            return new ModelCase("dates",
                () => DateDecoder.Translate(source, target),
                () => throw new NotSupportedException("dates: no batch case"),
                () =>
                {
                    if (steps == DateDecoder.MaxLength)
                    {
                        if (!isEncoded)
                            DateDecoder.Encode(source, ref encoded);
                        isEncoded = true;
                        state = encoded;
                        steps = 0;
                        token = DateDecoder.StartToken;
                    }
                    DateDecoder.DecodeStep(ref state, token, logits, weights);
                    token = Sampling.ArgMax(logits);
                    steps++;
                });
        }

        private static ModelCase Floats(string name, int steps, int inputSize, int outputSize, int stepOutputSize,
            Run<float> predict, Run<float> batch, Func<float[], int, int, int, Action> stepper)
        {
            var random = new Random(7);
            var inputs = new float[Batch * steps * inputSize];
            for (var i = 0; i < inputs.Length; i++)
                inputs[i] = (float)(random.NextDouble() * 2 - 1);
            var output = new float[outputSize];
            var outputs = new float[Batch * outputSize];
            return new ModelCase(name,
                () => predict(inputs.AsSpan(0, steps * inputSize), output),
                () => batch(inputs, outputs),
                stepper(inputs, steps, inputSize, stepOutputSize));
        }

        private static ModelCase Tokens(string name, int steps, int vocabulary, int outputSize, int stepOutputSize,
            Run<int>? predict, Run<int>? batch, Func<int[], int, int, Action> stepper)
        {
            var random = new Random(7);
            var tokens = new int[Batch * steps];
            for (var i = 0; i < tokens.Length; i++)
                tokens[i] = random.Next(vocabulary);
            var output = new float[outputSize];
            var outputs = new float[Batch * outputSize];
            Action Missing(string what) => () => throw new NotSupportedException($"{name}: no {what} case");
            return new ModelCase(name,
                predict is null ? Missing("predict") : () => predict(tokens.AsSpan(0, steps), output),
                batch is null ? Missing("batch") : () => batch(tokens, outputs),
                stepper(tokens, steps, stepOutputSize));
        }
    }

    internal static class Child
    {
        /// <summary>Times <paramref name="entry"/> of <paramref name="model"/> in this fresh process and writes one JSON line.</summary>
        public static int Measure(string model, string entry, bool jitLog)
        {
            using var log = jitLog ? new JitLog() : null;
            // --after other-model: that model's first call runs first (to see what a second model's first call costs).
            var afterIndex = Array.IndexOf(Environment.GetCommandLineArgs(), "--after");
            if (afterIndex > 0)
                Cases.Get(Environment.GetCommandLineArgs()[afterIndex + 1]).Predict();
            var c = Cases.Get(model);
            var call = entry switch { "predict" => c.Predict, "batch" => c.Batch, "step" => c.Step, _ => throw new ArgumentException(entry) };
            var samples = new long[4_000_000];
            var frequency = (double)Stopwatch.Frequency;

            var jitBefore = System.Runtime.JitInfo.GetCompilationTime();
            var methodsBefore = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (log is not null)
                log.Recording = true;
            var start = Stopwatch.GetTimestamp();
            call();
            var firstEnd = Stopwatch.GetTimestamp();
            if (log is not null)
            {
                // The runtime delivers its events to listeners asynchronously: give the last ones time to arrive.
                System.Threading.Thread.Sleep(1000);
                log.Recording = false;
                Console.Error.WriteLine($"first call of {model} {entry}: {(firstEnd - start) * 1e3 / Stopwatch.Frequency:F2} ms (with the event listener's overhead); JIT per method:");
                log.Print();
            }
            var firstJit = System.Runtime.JitInfo.GetCompilationTime() - jitBefore;
            var firstMethods = System.Runtime.JitInfo.GetCompiledMethodCount() - methodsBefore;

            // The first 250 ms, counted from the start of the first call.
            var windowEnd = start + (long)(0.250 * frequency);
            var n = 0;
            samples[n++] = firstEnd - start;
            var now = firstEnd;
            while (now < windowEnd && n < samples.Length)
            {
                call();
                var after = Stopwatch.GetTimestamp();
                samples[n++] = after - now;
                now = after;
            }
            var window = Median(samples, n);
            var windowCalls = n;

            // Two more seconds of calls (tiering settles), then 0.5 s of steady state.
            var settleEnd = now + (long)(2.0 * frequency);
            while (Stopwatch.GetTimestamp() < settleEnd)
                call();
            n = 0;
            now = Stopwatch.GetTimestamp();
            var steadyEnd = now + (long)(0.5 * frequency);
            while (now < steadyEnd && n < samples.Length)
            {
                call();
                var after = Stopwatch.GetTimestamp();
                samples[n++] = after - now;
                now = after;
            }
            var steady = Median(samples, n);

            double Us(double ticks) => ticks * 1e6 / frequency;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{{\"model\":\"{model}\",\"entry\":\"{entry}\",\"firstUs\":{Us(firstEnd - start):F1},\"firstJitUs\":{firstJit.TotalMicroseconds:F1},\"firstMethods\":{firstMethods}," +
                $"\"windowCalls\":{windowCalls},\"windowMedianUs\":{Us(window):F3},\"steadyMedianUs\":{Us(steady):F3}}}"));
            return 0;
        }

        /// <summary>One prediction, then exit: what a command-line tool that scores once does.</summary>
        public static int Once(string model)
        {
            Cases.Get(model).Predict();
            Console.WriteLine("predicted");
            return 0;
        }

        private static double Median(long[] values, int count)
        {
            Array.Sort(values, 0, count);
            return count % 2 == 1 ? values[count / 2] : (values[count / 2 - 1] + values[count / 2]) / 2.0;
        }
    }

    internal static class Parent
    {
        public static int Run(List<string> arguments)
        {
            var runs = 5;
            var entries = new[] { "predict", "batch", "step" };
            var startup = false;
            var environment = new Dictionary<string, string>();
            var models = new List<string>();
            for (var i = 0; i < arguments.Count; i++)
            {
                switch (arguments[i])
                {
                    case "--runs": runs = int.Parse(arguments[++i], CultureInfo.InvariantCulture); break;
                    case "--entries": entries = arguments[++i].Split(','); break;
                    case "--startup": startup = true; break;
                    case "--env":
                        var pair = arguments[++i].Split('=', 2);
                        environment[pair[0]] = pair[1];
                        break;
                    default: models.Add(arguments[i]); break;
                }
            }
            if (models.Count == 0)
                models.AddRange(Cases.Names);

            Console.WriteLine($"cold start: {Environment.ProcessorCount} logical CPUs, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, " +
                $"{CpuName()}; {runs} processes per row, medians" + (environment.Count > 0 ? $"; {string.Join(" ", environment.Select(e => $"{e.Key}={e.Value}"))}" : ""));
            return startup ? Startup(models, runs, environment) : Calls(models, entries, runs, environment);
        }

        private static int Calls(List<string> models, string[] entries, int runs, Dictionary<string, string> environment)
        {
            Console.WriteLine();
            Console.WriteLine($"{"model",-12} {"entry",-8} {"first call",12} {"(JIT)",10} {"methods",8} {"first 250 ms",13} {"calls",7} {"steady",11} {"250 ms / steady",16}");
            foreach (var model in models)
            {
                foreach (var entry in entries)
                {
                    if ((model == "char_lstm" && entry != "step") || (model == "dates" && entry == "batch"))
                        continue;
                    var results = new List<JsonElement>();
                    for (var r = 0; r < runs; r++)
                    {
                        var (output, code) = Start(["--child", model, entry], environment);
                        if (code != 0)
                        {
                            Console.Error.WriteLine($"{model} {entry}: exit code {code}\n{output}");
                            return 1;
                        }
                        results.Add(JsonDocument.Parse(output.Trim().Split('\n').Last()).RootElement.Clone());
                    }
                    double M(string key) => MedianOf(results.Select(e => e.GetProperty(key).GetDouble()));
                    var window = M("windowMedianUs");
                    var steady = M("steadyMedianUs");
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{model,-12} {entry,-8} {Time(M("firstUs")),12} {Time(M("firstJitUs")),10} {M("firstMethods"),8:F0} {Time(window),13} {M("windowCalls"),7:F0} {Time(steady),11} {window / steady,15:F2}x"));
                }
            }
            Console.WriteLine();
            Console.WriteLine("first call: type initialisation and JIT included; (JIT): the JIT's time during it (System.Runtime.JitInfo), and how many methods it compiled.");
            Console.WriteLine("first 250 ms: median call over the first 250 ms of calls (and how many); steady: median call after 2 s more.");
            return 0;
        }

        private static int Startup(List<string> models, int runs, Dictionary<string, string> environment)
        {
            runs = Math.Max(runs, 20);
            Console.WriteLine();
            Console.WriteLine($"{"app",-24} {"start to exit",14} {"over hello",11}");
            var hello = new List<double>();
            var perModel = models.ToDictionary(m => m, _ => new List<double>());
            // Interleaved, so that drift in the machine's load hits every row alike.
            for (var r = 0; r < runs + 2; r++)
            {
                var h = Timed(["--hello"], environment);
                if (r >= 2)
                    hello.Add(h);
                foreach (var model in models)
                {
                    var t = Timed(["--once", model], environment);
                    if (r >= 2)
                        perModel[model].Add(t);
                }
            }
            var helloMedian = MedianOf(hello);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"hello world",-24} {helloMedian,11:F1} ms {"",11}"));
            foreach (var model in models)
            {
                var m = MedianOf(perModel[model]);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{"one " + model + " Predict",-24} {m,11:F1} ms {m - helloMedian,8:F1} ms"));
            }
            Console.WriteLine();
            Console.WriteLine($"median of {runs} runs each (after 2 discarded), interleaved; run the published app (dotnet publish) for a user's start-up.");
            return 0;
        }

        private static double Timed(string[] arguments, Dictionary<string, string> environment)
        {
            var watch = Stopwatch.StartNew();
            var (output, code) = Start(arguments, environment);
            var elapsed = watch.Elapsed.TotalMilliseconds;
            if (code != 0)
                throw new InvalidOperationException($"{string.Join(" ", arguments)}: exit code {code}\n{output}");
            return elapsed;
        }

        private static (string Output, int Code) Start(string[] arguments, Dictionary<string, string> environment)
        {
            var info = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            // Started through the dotnet host (dotnet run, dotnet X.dll): run this assembly again.
            if (Path.GetFileNameWithoutExtension(Environment.ProcessPath!) == "dotnet")
                info.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
            foreach (var argument in arguments)
                info.ArgumentList.Add(argument);
            foreach (var (key, value) in environment)
                info.Environment[key] = value;
            using var process = Process.Start(info)!;
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (output + error.Result, process.ExitCode);
        }

        private static string Time(double us) => us >= 1000 ? string.Create(CultureInfo.InvariantCulture, $"{us / 1000:F2} ms") : string.Create(CultureInfo.InvariantCulture, $"{us:F1} µs");

        private static double MedianOf(IEnumerable<double> values)
        {
            var sorted = values.OrderBy(v => v).ToArray();
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }

        private static string CpuName()
        {
            try
            {
                var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
                var family = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("cpu family", StringComparison.Ordinal));
                var model = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model\t", StringComparison.Ordinal));
                return line is null ? "unknown CPU" : $"{line.Split(':')[1].Trim()} (family {family?.Split(':')[1].Trim()}, model {model?.Split(':')[1].Trim()})";
            }
            catch (IOException)
            {
                return "unknown CPU";
            }
        }
    }
}
