using StaticRnn.Generators.Common;
using StaticRnn.Generators.Diagnostics;

namespace StaticRnn.Generators.Parsing;

// Mirrors of the runtime enums (same values), so the generator does not reference the runtime assembly.
internal enum WeightConvention { PyTorch, Keras, Onnx }

internal enum MergeMode { Concat, Sum, Multiply, Average }

internal enum Activation { None, Sigmoid, Tanh, Relu, Softmax, LogSoftmax }

internal enum LayerKind { Embedding, Lstm, Gru, SimpleRnn, Dense, Dropout }

/// <summary>A type that encloses the model class, as the generated partial declaration must repeat it.</summary>
internal sealed record ContainingTypeSpec(string Keyword, string Name);

/// <summary>Where an argument was written, by its name in the attribute ("hiddenSize", "Weights", ...).</summary>
internal sealed record ArgumentLocation(string Name, LocationInfo Location);

internal static class ArgumentLocations
{
    /// <summary>The location of the named argument, or null when the user did not write it.</summary>
    public static LocationInfo? Find(this EquatableArray<ArgumentLocation> arguments, string name)
    {
        foreach (var argument in arguments)
        {
            if (argument.Name == name)
                return argument.Location;
        }
        return null;
    }
}

/// <summary>One layer attribute exactly as the user wrote it; nothing is validated yet.</summary>
internal sealed record LayerSpec(
    LayerKind Kind,
    int Size,                       // hiddenSize, units, or embeddingSize
    int VocabularySize,             // Embedding only
    string? Weights,
    int Layers,
    bool Bidirectional,
    bool ReturnSequences,
    MergeMode MergeMode,
    bool Peephole,
    bool CoupledInputForget,
    bool ResetAfter,
    Activation Activation,
    float DropoutRate,
    LocationInfo? Location,
    EquatableArray<ArgumentLocation> ArgumentLocations,
    bool MaskZero = false)
{
    public bool IsRecurrent => Kind is LayerKind.Lstm or LayerKind.Gru or LayerKind.SimpleRnn;

    public LocationInfo? LocationOf(string argument) => ArgumentLocations.Find(argument) ?? Location;
}

/// <summary>The model declaration as parsed from the class and its attributes: the input of the pipeline's
/// later stages. Holds no symbols or syntax, only values, so it compares by value and caches.</summary>
internal sealed record ModelSpec(
    string? Namespace,
    EquatableArray<ContainingTypeSpec> ContainingTypes,
    string ClassName,
    string FullName,
    string WeightsPath,
    int? SequenceLength,
    int? InputSize,
    WeightConvention Convention,
    EquatableArray<LayerSpec> Layers,
    LocationInfo? Location,
    EquatableArray<ArgumentLocation> ArgumentLocations,
    EquatableArray<DiagnosticInfo> Diagnostics)
{
    public LocationInfo? LocationOf(string argument) => ArgumentLocations.Find(argument) ?? Location;
}
