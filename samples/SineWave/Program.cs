using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Reflection;
using SineWave;

// The sine experiment of the lecture notes, compiled by StaticRnn: ten models (an MLP baseline, a simple RNN, an
// LSTM, a GRU and a GRU of 64 units, each trained on clean and on noisy waves) predict the next 100 samples of
// sine waves from the previous 100. The sample prints their test errors, checks every prediction against
// PyTorch's (and the LSTM's weights in Keras layout against the same predictions), times Predict and PredictBatch,
// and draws the predictions as PNG files.
//
//   dotnet run -c Release --project samples/SineWave [-- --plots DIR | --no-plots]

const double Tolerance = 1e-4;     // StaticRnn against PyTorch's float32 prediction, per output

var plotDirectory = DefaultPlotDirectory();
for (var a = 0; a < args.Length; a++)
{
    if (args[a] == "--no-plots")
        plotDirectory = null;
    else if (args[a] == "--plots" && a + 1 < args.Length)
        plotDirectory = args[++a];
    else
    {
        Console.Error.WriteLine("usage: SineWave [--plots DIR | --no-plots]");
        return 2;
    }
}

var data = TestData.Load();
var networks = Network.All;
var pytorch = networks.Select(n => data.Models.SingleOrDefault(m => m.Name == n.ClassName)
    ?? throw new InvalidDataException($"sine_test.json has no predictions of {n.ClassName}: re-run tools/make_sine_models.py.")).ToArray();
foreach (var (network, reference) in networks.Zip(pytorch))
{
    if (reference.KerasParameters != network.Parameters)
        throw new InvalidDataException($"{network.ClassName}: the training script counts {reference.KerasParameters} parameters, the sample {network.Parameters}.");
}

Console.WriteLine("The sine experiment of the lecture notes, compiled by StaticRnn");
Console.WriteLine("100 samples of a sine wave in, the next 100 out. Training: " + data.Training + ".");
Console.WriteLine($"Test sets, {data.Sets[0].Inputs.Length} waves each (the truth is always the clean continuation):");
foreach (var set in data.Sets)
    Console.WriteLine($"  {set.Name,-18} {set.Description}");

// Every model on every test set, through Predict (one wave at a time) and PredictBatch (the whole set).
var evaluations = networks.Select((network, i) => Evaluation.Run(network, data, pytorch[i])).ToArray();
// The same LSTM from its weights in Keras layout (Convention = WeightConvention.Keras) must predict what PyTorch's SineLstm does.
var kerasLayout = Evaluation.Run(Network.LstmKerasLayout, data, pytorch[Array.FindIndex(networks, n => n.ClassName == nameof(SineLstm))]);
var worstDifference = Math.Max(evaluations.Max(e => e.MaxDifference), kerasLayout.MaxDifference);

Console.WriteLine();
Console.WriteLine("Test MSE of StaticRnn's predictions against the truth; the last column is the largest difference");
Console.WriteLine("from PyTorch's float32 prediction over every output of every wave, Predict and PredictBatch.");
Console.WriteLine();
var header = $"  {"model",-16}{"",-13}{"parameters",15}" + string.Concat(data.Sets.Select(s => $"{s.Name,18}")) + $"{"|Δ PyTorch|",14}";
Console.WriteLine(header);
foreach (var noisy in new[] { false, true })
{
    Console.WriteLine(noisy ? "Trained on noisy waves (Treino com ruído)" : "Trained on clean waves");
    for (var i = 0; i < networks.Length; i++)
    {
        if (networks[i].TrainedOnNoise != noisy)
            continue;
        var e = evaluations[i];
        Console.WriteLine($"  {networks[i].ClassName,-16}{networks[i].Architecture,-13}{networks[i].ParameterText,15}"
            + string.Concat(e.Mse.Select(m => $"{m,18:F5}")) + $"{e.MaxDifference,14:0.0E+00}");
    }
}
Console.WriteLine($"Keras layout: {Network.LstmKerasLayout.ClassName}, {nameof(SineLstm)}'s weights as Keras names them (models/sine_lstm_keras.npz,");
Console.WriteLine($"  Convention = WeightConvention.Keras), differs from PyTorch's {nameof(SineLstm)} by up to {kerasLayout.MaxDifference:0.0E+00}.");
Console.WriteLine();
Console.WriteLine(worstDifference <= Tolerance
    ? $"Every prediction agrees with PyTorch's within {Tolerance:0E+00} (largest difference {worstDifference:0.0E+00})."
    : $"StaticRnn and PyTorch differ by up to {worstDifference:0.0E+00}; expected at most {Tolerance:0E+00}.");

// Time per sequence, one thread: Predict on one wave per call, PredictBatch on a whole test set per call.
// The noisy models are the same networks with other weights, so only the first five are timed.
var waves = data.Sets[0].Inputs;
Console.WriteLine();
Console.WriteLine($"Prediction time per sequence (one thread, median of {Timing.Runs} runs after warm-up):");
Console.WriteLine($"  {"model",-16}{"",-13}{"Predict",16}{"PredictBatch",16}");
Console.WriteLine($"  {"",-16}{"",-13}{"1 per call",16}{$"{waves.Length} per call",16}");
long allocated = 0;
foreach (var network in networks.Where(n => !n.TrainedOnNoise))
{
    var single = Timing.NanosecondsPerSequence(network.Predict, waves.Take(1).ToArray(), out var bytesSingle);
    var batch = Timing.NanosecondsPerSequence(network.PredictBatch, waves, out var bytesBatch);
    allocated += bytesSingle + bytesBatch;
    Console.WriteLine($"  {network.ClassName,-16}{network.Architecture,-13}{single / 1000,13:F2} µs{batch / 1000,13:F2} µs");
}
Console.WriteLine($"  {allocated} bytes allocated while timing.");

if (plotDirectory is not null)
{
    var files = Plots.Write(plotDirectory, data, networks, evaluations);
    Console.WriteLine();
    Console.WriteLine($"Plots of the predictions: {files.Count} PNG files in {Path.GetFullPath(plotDirectory)}");
    foreach (var file in files)
        Console.WriteLine($"  {Path.GetFileName(file)}");
}

if (worstDifference > Tolerance)
{
    Console.Error.WriteLine($"StaticRnn and PyTorch differ by {worstDifference:0.00E+00}; expected at most {Tolerance:0E+00}.");
    return 1;
}
return 0;

// samples/SineWave/plots when the sample runs from its build output (dotnet run), else ./plots.
static string DefaultPlotDirectory()
{
    var project = typeof(Network).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .FirstOrDefault(a => a.Key == "SineWave.ProjectDirectory")?.Value;
    return project is not null && File.Exists(Path.Combine(project, "SineWave.csproj"))
        ? Path.Combine(project, "plots")
        : "plots";
}

/// <summary>One model on the test sets: its predictions (PredictBatch), their MSE against the truth per set, and the
/// largest difference of Predict's and PredictBatch's outputs from PyTorch's.</summary>
internal sealed record Evaluation(float[][][] Predictions, double[] Mse, double MaxDifference)
{
    public static Evaluation Run(Network network, TestData data, ModelPredictions pytorch)
    {
        var predictions = new float[data.Sets.Length][][];
        var mse = new double[data.Sets.Length];
        var maxDifference = 0.0;
        for (var s = 0; s < data.Sets.Length; s++)
        {
            var set = data.Sets[s];
            var horizon = set.Truth[0].Length;
            var batch = new float[set.Inputs.Length * horizon];
            network.PredictBatch(set.Inputs.SelectMany(w => w).ToArray(), batch);
            var single = new float[horizon];
            var squares = 0.0;
            predictions[s] = new float[set.Inputs.Length][];
            for (var w = 0; w < set.Inputs.Length; w++)
            {
                network.Predict(set.Inputs[w], single);
                predictions[s][w] = batch.AsSpan(w * horizon, horizon).ToArray();
                for (var t = 0; t < horizon; t++)
                {
                    var reference = pytorch.Predictions[s][w][t];
                    maxDifference = Math.Max(maxDifference, Math.Max(Math.Abs(single[t] - reference), Math.Abs(predictions[s][w][t] - reference)));
                    var error = (double)predictions[s][w][t] - set.Truth[w][t];
                    squares += error * error;
                }
            }
            mse[s] = squares / (set.Inputs.Length * horizon);
        }
        return new Evaluation(predictions, mse, maxDifference);
    }

    /// <summary>The MSE of one predicted wave.</summary>
    public double WaveMse(TestData data, int set, int wave) =>
        Predictions[set][wave].Zip(data.Sets[set].Truth[wave], (p, t) => ((double)p - t) * ((double)p - t)).Average();
}

internal static class Timing
{
    public const int Runs = 7;

    /// <summary>Calls <paramref name="forward"/> on the waves stored back to back, for 300 ms to warm up (the JIT
    /// reaches its final code), then in <see cref="Runs"/> runs of about 20 ms; the median run's time per wave.</summary>
    public static double NanosecondsPerSequence(Forward forward, float[][] waves, out long allocatedBytes)
    {
        var input = waves.SelectMany(w => w).ToArray();
        var output = new float[input.Length];      // every model predicts as many samples as it reads
        var warmUp = Stopwatch.StartNew();
        var calls = 0;
        while (warmUp.ElapsedMilliseconds < 300)
        {
            forward(input, output);
            calls++;
        }
        var callsPerRun = Math.Max(1, calls / 5);
        var times = new double[Runs];
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
        for (var r = 0; r < Runs; r++)
        {
            var started = Stopwatch.GetTimestamp();
            for (var c = 0; c < callsPerRun; c++)
                forward(input, output);
            times[r] = Stopwatch.GetElapsedTime(started).TotalNanoseconds / ((double)callsPerRun * waves.Length);
        }
        allocatedBytes = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
        Array.Sort(times);
        return times[Runs / 2];
    }
}
