using System;
using System.IO;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace SineWave;

/// <summary>models/sine_test.json, written by tools/make_sine_models.py: the four test sets and, for every model,
/// PyTorch's float32 prediction of every test wave.</summary>
internal sealed record TestData(string Training, double Dt, double NoiseSigma, double[] TrainFrequencies, TestSet[] Sets, ModelPredictions[] Models)
{
    public static TestData Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "models", "sine_test.json");
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize(stream, TestDataJson.Default.TestData)
            ?? throw new InvalidDataException($"{path} holds no test data.");
    }
}

/// <summary>One test set: the 100 input samples of each wave (noisy for the noisy sets) and the clean
/// continuation, the 100 samples that follow.</summary>
internal sealed record TestSet(string Name, string Description, bool Noisy, double[] Frequencies, double[] Phases, float[][] Inputs, float[][] Truth);

/// <summary>PyTorch's predictions of one model, one array of waves per test set, in the order of the sets.</summary>
internal sealed record ModelPredictions(string Name, string File, bool TrainedOnNoise, int KerasParameters, float[][][] Predictions);

// The JSON is read through the source generator: no reflection, so the sample publishes with Native AOT.
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(TestData))]
internal sealed partial class TestDataJson : JsonSerializerContext;
