using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Text.Json;
using SineWave;

// Test waves written by tools/make_sample.py: inputs, the true continuation, and PyTorch's own prediction.
var path = Path.Combine(AppContext.BaseDirectory, "models", "sine_test.json");
var waves = JsonSerializer.Deserialize<TestWaves>(File.ReadAllText(path), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;

Console.WriteLine($"SineLstm: {SineLstm.SequenceLength} samples in, {SineLstm.OutputSize} predicted (LSTM 8 + Dense 100, compiled by StaticRnn)");
Console.WriteLine();
Console.WriteLine("frequency   MSE vs truth   max |StaticRnn - PyTorch|");
var prediction = new float[SineLstm.OutputSize];
var worstDifference = 0.0;
for (var i = 0; i < waves.Inputs.Length; i++)
{
    SineLstm.Predict(waves.Inputs[i], prediction);
    var mse = prediction.Zip(waves.Truth[i], (p, t) => (p - t) * (p - t)).Average();
    var difference = prediction.Zip(waves.PyTorch[i], (p, t) => Math.Abs(p - t)).Max();
    worstDifference = Math.Max(worstDifference, difference);
    Console.WriteLine($"{waves.Frequencies[i],9:F3}   {mse,12:E2}   {difference,25:E2}");
}

Console.WriteLine();
var shown = waves.Inputs.Length / 2;
Console.WriteLine($"Wave {shown + 1} (frequency {waves.Frequencies[shown]:F3}): truth (.) and prediction (o), the next 100 samples:");
SineLstm.Predict(waves.Inputs[shown], prediction);
Plot(waves.Truth[shown], prediction);

// Time Predict on one sequence (single thread, after warm-up).
var input = waves.Inputs[0];
for (var i = 0; i < 1000; i++)
    SineLstm.Predict(input, prediction);
const int Calls = 20_000;
var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
var started = Stopwatch.GetTimestamp();
for (var i = 0; i < Calls; i++)
    SineLstm.Predict(input, prediction);
var elapsed = Stopwatch.GetElapsedTime(started);
var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;
Console.WriteLine();
Console.WriteLine($"Predict: {elapsed.TotalNanoseconds / Calls:F0} ns per sequence, {allocated} bytes allocated in {Calls:N0} calls");

if (worstDifference > 1e-4)
{
    Console.Error.WriteLine($"StaticRnn and PyTorch differ by {worstDifference:E2}; expected under 1e-4.");
    return 1;
}
return 0;

static void Plot(float[] truth, float[] prediction)
{
    const int Rows = 11;
    for (var row = 0; row < Rows; row++)
    {
        var level = 1.0 - 2.0 * row / (Rows - 1);
        var line = new char[truth.Length];
        for (var t = 0; t < truth.Length; t++)
        {
            var truthHere = Math.Abs(truth[t] - level) <= 1.0 / (Rows - 1);
            var predictionHere = Math.Abs(prediction[t] - level) <= 1.0 / (Rows - 1);
            line[t] = predictionHere ? 'o' : truthHere ? '.' : ' ';
        }
        Console.WriteLine($"{level,5:F1} |{new string(line)}");
    }
}

internal sealed record TestWaves(double[] Frequencies, float[][] Inputs, float[][] Truth, float[][] PyTorch);
