using StaticRnn.Generators.Common;
using StaticRnn.Generators.Diagnostics;

namespace StaticRnn.Generators.Parsing;

/// <summary>[Attention(units)] as written.</summary>
internal sealed record AttentionSpec(int Units, string? Weights, int Number, LocationInfo? Location, EquatableArray<ArgumentLocation> ArgumentLocations)
{
    public LocationInfo? LocationOf(string argument) => ArgumentLocations.Find(argument) ?? Location;
}

/// <summary>[Bridge] as written.</summary>
internal sealed record BridgeSpec(string? Weights, string? CellWeights, Activation Activation, int Number, LocationInfo? Location,
    EquatableArray<ArgumentLocation> ArgumentLocations)
{
    public LocationInfo? LocationOf(string argument) => ArgumentLocations.Find(argument) ?? Location;
}

/// <summary>
/// A class marked [RnnDecoder] as parsed: its own declaration as a <see cref="ModelSpec"/> (the decoder's weight file
/// and its Embedding, recurrent and Dense layers), the attention and bridge attributes beside them, and the encoder
/// class's declaration, parsed the same way as the encoder's own model.
/// </summary>
/// <param name="LayerNumbers">The 1-based position among all the decoder's attributes of each of <c>Model.Layers</c>.</param>
/// <param name="Encoder">The encoder's declaration; null when the type named is not an [RnnModel] class of this project.</param>
/// <param name="EncoderProblem">Why there is no encoder, for the message.</param>
internal sealed record DecoderSpec(
    ModelSpec Model,
    EquatableArray<int> LayerNumbers,
    EquatableArray<AttentionSpec> Attentions,
    EquatableArray<BridgeSpec> Bridges,
    string EncoderName,
    ModelSpec? Encoder,
    string? EncoderProblem,
    int? MaxLength,
    int StartToken,
    int EndToken);
