using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text.Json;
using System.Text.Json.Serialization;
using PackageConsumer;

// Checks the StaticRnn package from a consumer's side: the generator ran (the models exist), the props embedded the
// weight files, the runtime came from the package, and Predict reproduces the float64 references to 1e-5.
const double Tolerance = 1e-5;

var runtime = typeof(StaticRnn.RnnModelAttribute).Assembly;
Console.WriteLine($"StaticRnn {runtime.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion} " +
                  $"(built for {runtime.GetCustomAttribute<TargetFrameworkAttribute>()?.FrameworkName}), consumer built for " +
                  $"{AppContext.TargetFrameworkName}, running on {RuntimeInformation.FrameworkDescription}" +
                  $"{(RuntimeFeature.IsDynamicCodeSupported ? "" : " (Native AOT)")}");

var failures = 0;

// The generator is an analyzer of the package, never a reference of the consumer.
if (File.Exists(Path.Combine(AppContext.BaseDirectory, "StaticRnn.Generators.dll"))
    || AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "StaticRnn.Generators"))
{
    Console.Error.WriteLine("FAIL: StaticRnn.Generators.dll reached the consumer's output: the package made it a reference.");
    failures++;
}

// The package's buildTransitive props made both weight files AdditionalFiles (else the build fails with SRNN0001)
// and embedded resources under the name the generator was told.
var resources = typeof(TorchLstm).Assembly.GetManifestResourceNames();
foreach (var expected in new[] { "StaticRnn/models/lstm_uni_1l.safetensors", "StaticRnn/models/keras_lstm.npz" })
{
    var found = resources.Contains(expected);
    Console.WriteLine($"embedded resource {expected}: {(found ? "present" : "MISSING")}");
    if (!found)
        failures++;
}

failures += Check("lstm_uni_1l", "TorchLstm (safetensors)", TorchLstm.SequenceLength * TorchLstm.InputSize, TorchLstm.OutputSize,
    (x, y) => TorchLstm.Predict(x, y), (x, y) => TorchLstm.PredictBatch(x, y));
failures += Check("keras_lstm", "KerasLstm (npz)", KerasLstm.SequenceLength * KerasLstm.InputSize, KerasLstm.OutputSize,
    (x, y) => KerasLstm.Predict(x, y), (x, y) => KerasLstm.PredictBatch(x, y));

Console.WriteLine(failures == 0 ? "PackageConsumer: all checks passed" : $"PackageConsumer: {failures} check(s) failed");
return failures == 0 ? 0 : 1;

static int Check(string fixture, string model, int inputLength, int outputSize, Predictor predict, Predictor predictBatch)
{
    var json = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "models", fixture + ".json"));
    var reference = JsonSerializer.Deserialize(json, ReferenceJson.Default.Reference)
        ?? throw new InvalidDataException($"{fixture}.json is empty.");
    var inputs = reference.Inputs ?? throw new InvalidDataException($"{fixture}.json has no inputs.");

    var worst = 0.0;
    var output = new float[outputSize];
    for (var s = 0; s < inputs.Length; s++)
    {
        if (inputs[s].Length != inputLength || reference.Expected[s].Length != outputSize)
            throw new InvalidDataException($"{fixture}.json does not match the model's shapes.");
        predict(inputs[s], output);
        worst = Math.Max(worst, MaxDifference(output, reference.Expected[s]));
    }

    // All sequences in one PredictBatch call.
    var batch = new float[inputs.Length * outputSize];
    predictBatch(inputs.SelectMany(x => x).ToArray(), batch);
    var worstBatch = MaxDifference(batch, reference.Expected.SelectMany(y => y).ToArray());

    var ok = worst <= Tolerance && worstBatch <= Tolerance;
    Console.WriteLine($"{model}: {inputs.Length} sequences x {outputSize} outputs, max |Predict - expected| = {worst:E2}, " +
                      $"max |PredictBatch - expected| = {worstBatch:E2} (tolerance {Tolerance:E0}): {(ok ? "ok" : "FAIL")}");
    return ok ? 0 : 1;
}

static double MaxDifference(float[] actual, double[] expected) =>
    actual.Zip(expected, (a, e) => double.IsFinite(a) ? Math.Abs(a - e) : double.PositiveInfinity).Max();

internal delegate void Predictor(ReadOnlySpan<float> input, Span<float> output);

/// <summary>The part of a fixture's json read here (tools/make_fixtures.py writes it).</summary>
internal sealed class Reference
{
    public float[][]? Inputs { get; set; }
    public double[][] Expected { get; set; } = [];
}

[JsonSourceGenerationOptions(PropertyNameCaseInsensitive = true)]
[JsonSerializable(typeof(Reference))]
internal sealed partial class ReferenceJson : JsonSerializerContext;
