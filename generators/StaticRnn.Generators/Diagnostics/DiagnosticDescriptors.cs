using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace StaticRnn.Generators.Diagnostics;

/// <summary>Every diagnostic StaticRnn reports. IDs are stable; AnalyzerReleases.*.md lists them.</summary>
internal static class DiagnosticDescriptors
{
    private const string Category = "StaticRnn";

    private static DiagnosticDescriptor Error(string id, string title, string message) =>
        new(id, title, message, Category, DiagnosticSeverity.Error, isEnabledByDefault: true);

    // Weight file.
    public static readonly DiagnosticDescriptor WeightFileNotFound = Error("SRNN0001",
        "Weight file not found",
        "The weight file '{0}' is not among the project's AdditionalFiles (expected a file at '{1}'){2}{3}");

    public static readonly DiagnosticDescriptor WeightFileUnreadable = Error("SRNN0002",
        "Weight file cannot be read",
        "The weight file '{0}' could not be read: {1}");

    public static readonly DiagnosticDescriptor WeightFileDamaged = Error("SRNN0003",
        "Weight file is damaged",
        "The weight file '{0}' cannot be read as its format requires: {1}");

    public static readonly DiagnosticDescriptor UnsupportedDType = Error("SRNN0004",
        "Unsupported tensor data type",
        "The weight file '{0}' holds a tensor StaticRnn cannot convert: {1}");

    public static readonly DiagnosticDescriptor UnsupportedWeightFormat = Error("SRNN0005",
        "Unsupported weight file format",
        "The weight file '{0}' has the extension '{1}'; expected a .safetensors, .npz, .npy or .onnx file{2}");

    // Tensors.
    public static readonly DiagnosticDescriptor TensorMissing = Error("SRNN0010",
        "Tensor missing",
        "{0} needs the tensor '{1}' of shape {2}, but the weight file has no tensor of that name{3}{4}");

    public static readonly DiagnosticDescriptor TensorShapeMismatch = Error("SRNN0011",
        "Tensor shape disagrees with the declared sizes",
        "{0} expects the tensor '{1}' to have shape {2} ({3}), but it has shape {4}{5}");

    public static readonly DiagnosticDescriptor WeightsPrefixUnknown = Error("SRNN0012",
        "Weights prefix not found",
        "{0} has Weights = \"{1}\", but no tensor in the weight file has that prefix; expected one of: {2}");

    public static readonly DiagnosticDescriptor WeightsPrefixAmbiguous = Error("SRNN0013",
        "Several tensor groups fit the layer",
        "{0} does not set Weights and {1} groups of tensors in the weight file fit it: {2}; set Weights to one of them");

    public static readonly DiagnosticDescriptor WeightsNotFound = Error("SRNN0014",
        "No tensor group fits the layer",
        "{0} does not set Weights and no group of tensors in the weight file fits it (expected {1}); groups found: {2}{3}");

    public static readonly DiagnosticDescriptor TensorsLeftUnread = Error("SRNN0015",
        "The declaration reads only part of the layer's tensors",
        "{0} reads only part of the tensors under {1}: the weight file also has '{2}' {3}, which {4}{5}");

    public static readonly DiagnosticDescriptor InputSizeDisagrees = Error("SRNN0016",
        "InputSize disagrees with the weight file",
        "RnnModel.InputSize is {0}, but the first layer's input weights '{1}' have shape {2}, {3} inputs per step; set InputSize = {3}");

    // The class.
    public static readonly DiagnosticDescriptor ClassNotPartial = Error("SRNN0020",
        "Model class must be partial",
        "The class '{0}' must be declared 'partial' so StaticRnn can add the generated members to it");

    public static readonly DiagnosticDescriptor ContainingTypeNotPartial = Error("SRNN0021",
        "Containing type must be partial",
        "The class '{0}' is nested in '{1}', which must also be declared 'partial'");

    public static readonly DiagnosticDescriptor GenericClass = Error("SRNN0022",
        "Model class cannot be generic",
        "The class '{0}' cannot be a model because '{1}' is generic; expected a non-generic class in non-generic types");

    public static readonly DiagnosticDescriptor LayerOnOtherDeclaration = Error("SRNN0023",
        "Layer declared on another part of the class",
        "The layer attribute [{0}] must be on the same declaration as [RnnModel], where the order of the layers is defined");

    public static readonly DiagnosticDescriptor RecordModel = Error("SRNN0024",
        "Model type must be a class",
        "'{0}' is a record; [RnnModel] must be on a partial class");

    // The network's shape.
    public static readonly DiagnosticDescriptor SequenceLengthInvalid = Error("SRNN0030",
        "SequenceLength missing or invalid",
        "RnnModel.SequenceLength must be set to a value from 1 to {1}; found {0}{2}");

    public static readonly DiagnosticDescriptor InputSizeInvalid = Error("SRNN0031",
        "InputSize missing or invalid",
        "RnnModel.InputSize must be set to a value from 1 to {1} when the first layer is not an Embedding; found {0}{2}");

    public static readonly DiagnosticDescriptor NoLayers = Error("SRNN0032",
        "Model has no layers",
        "The model '{0}' declares no layers; expected at least one [Lstm], [Gru], [SimpleRnn], [Embedding] or [Dense] attribute after [RnnModel]");

    public static readonly DiagnosticDescriptor EmbeddingNotFirst = Error("SRNN0033",
        "Embedding must be the first layer",
        "[Embedding] is layer {0}; it maps tokens to vectors and must be layer 1");

    public static readonly DiagnosticDescriptor LayerInputMismatch = Error("SRNN0034",
        "Layer cannot take its predecessor's output",
        "{0} needs {1}, but {2} hands on {3}{4}");

    public static readonly DiagnosticDescriptor LayerArgumentInvalid = Error("SRNN0035",
        "Invalid layer argument",
        "{0}: {1} must be {2}; found {3}");

    public static readonly DiagnosticDescriptor NotSupported = Error("SRNN0036",
        "Not supported yet",
        "{0} is not supported by this version of StaticRnn{1}");

    public static readonly DiagnosticDescriptor GruFormDisagrees = Error("SRNN0037",
        "GRU form disagrees with the weight file",
        "{0} declares ResetAfter = {1}, but the file's '{2}' has shape {3}, the bias of a Keras GRU with reset_after={4}; remove ResetAfter or set it to {5}");

    public static readonly DiagnosticDescriptor ForeignConvention = Error("SRNN0038",
        "Tensor names follow another convention",
        "The weight file '{0}' has tensor names of the {1} convention (such as '{2}'), but the model declares Convention = WeightConvention.{3}; set Convention = WeightConvention.{1}");

    // ONNX graphs.
    public static readonly DiagnosticDescriptor OnnxGraphUnsupported = Error("SRNN0040",
        "ONNX graph not supported",
        "The ONNX graph in '{0}' cannot be compiled: {1}");

    public static readonly DiagnosticDescriptor OnnxDeclarationDisagrees = Error("SRNN0041",
        "Declaration disagrees with the ONNX graph",
        "{0}, but the ONNX graph in '{1}' computes {2}; remove the layer attributes (the graph declares the network) or make them agree");

    public static readonly DiagnosticDescriptor OnnxSizeDisagrees = Error("SRNN0042",
        "Size disagrees with the ONNX graph",
        "RnnModel.{0} is {1}, but the ONNX graph's input '{2}' has {3}; remove {0} (the graph gives it) or set it to {4}");

    // Encoder–decoders.
    public static readonly DiagnosticDescriptor DecoderEncoderInvalid = Error("SRNN0050",
        "Decoder's encoder cannot be used",
        "The encoder '{0}' of decoder '{1}' cannot be used: {2}");

    public static readonly DiagnosticDescriptor DecoderLayout = Error("SRNN0051",
        "Decoder layers not as expected",
        "Decoder '{0}': {1}");

    public static readonly DiagnosticDescriptor DecoderArgumentInvalid = Error("SRNN0052",
        "Invalid decoder argument",
        "RnnDecoder.{0} is {1}; expected {2}");

    public static readonly DiagnosticDescriptor DecoderInitialState = Error("SRNN0053",
        "Decoder cannot start from the encoder's final state",
        "{0}; {1}");

    public static readonly DiagnosticDescriptor AttentionWeightsNotFound = Error("SRNN0054",
        "Attention tensors not found",
        "{0} needs the tensors {1}; {2}");

    // Last resort: the generator never throws; anything unexpected becomes this.
    public static readonly DiagnosticDescriptor InternalError = Error("SRNN9999",
        "StaticRnn internal error",
        "StaticRnn could not generate '{0}' because of an internal error: {1}. Please report this with the model declaration.");

    private static readonly Dictionary<string, DiagnosticDescriptor> s_byId = typeof(DiagnosticDescriptors)
        .GetFields()
        .Where(f => f.FieldType == typeof(DiagnosticDescriptor))
        .Select(f => (DiagnosticDescriptor)f.GetValue(null)!)
        .ToDictionary(d => d.Id);

    public static IEnumerable<DiagnosticDescriptor> All => s_byId.Values;

    public static DiagnosticDescriptor ById(string id) => s_byId[id];
}
