using System.Collections.Generic;
using System.Linq;
using StaticRnn.Generators.Model;
using StaticRnn.Runtime;
using StaticRnn.Generators.Parsing;

namespace StaticRnn.Generators.Emit;

/// <summary>Writes <c>State</c> and <c>Step</c> for unidirectional models: every layer applied to one time step,
/// the recurrent layers advancing the h (and c) they keep in <c>State</c>.</summary>
internal static class StepEmitter
{
    private const string FastKernels = "global::StaticRnn.Runtime.FastKernels";
    private const string Guard = "global::StaticRnn.Runtime.Guard";
    private const string Weights = WeightsEmitter.ClassName;

    /// <summary>Where one stacked layer's state lives inside <c>State</c>: the kernel's h (twice: read and
    /// written alternately) and, for an LSTM, c, padded to whole blocks.</summary>
    private sealed record StateSlot(RecurrentLayer Layer, RecurrentCell Cell, int Offset)
    {
        public int Padded => WeightPacking.Padded(Layer.HiddenSize);
        public int Size => ScratchLayout.StateSize(Layer);
        public int COffset => Layer.HasCellState ? Offset + 2 * Padded : -1;
    }

    public static void Write(SourceWriter writer, Network network)
    {
        var slots = new List<StateSlot>();
        var size = 0;
        foreach (var layer in network.Layers.OfType<RecurrentLayer>())
        {
            foreach (var directions in layer.Stack)
            {
                var slot = new StateSlot(layer, directions[0], size);
                slots.Add(slot);
                size += slot.Size;
            }
        }
        WriteState(writer, slots, size);
        WriteStep(writer, network, slots);
    }

    private static void WriteState(SourceWriter writer, List<StateSlot> slots, int size)
    {
        writer.Line();
        writer.Line("/// <summary>");
        writer.Line("/// The recurrent state of every layer, carried from one <see cref=\"Step\"/> to the next. <c>default</c> is the");
        writer.Line("/// zero state every sequence starts from. It is a plain value: copy it to keep a snapshot, or save its");
        writer.Line("/// <see cref=\"Size\"/> floats with <see cref=\"CopyTo\"/> and restore them with <see cref=\"From\"/>.");
        writer.Line("/// </summary>");
        writer.Line("/// <remarks>");
        writer.Line("/// Layout of the floats inside:");
        writer.Line("/// <code>");
        foreach (var slot in slots)
        {
            var name = $"layer {slot.Layer.Number}{(slot.Layer.Stack.Count > 1 ? $", stacked layer {slot.Cell.StackIndex}" : "")}";
            writer.Line($"/// {name,-28} h [{slot.Offset}, {slot.Offset + slot.Layer.HiddenSize})" +
                (slot.COffset >= 0 ? $"  c [{slot.COffset}, {slot.COffset + slot.Layer.HiddenSize})" : ""));
        }
        writer.Line("/// </code>");
        writer.Line("/// </remarks>");
        writer.Open("public struct State");
        writer.Line("/// <summary>Floats in the state.</summary>");
        writer.Line($"public const int Size = {System.Math.Max(size, 1)};");
        writer.Line();
        writer.Line("private Values _values;");
        writer.Line();
        writer.Line("internal static global::System.Span<float> AsSpan(ref State state) =>");
        writer.Line("    global::System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref global::System.Runtime.CompilerServices.Unsafe.As<Values, float>(ref state._values), Size);");
        writer.Line();
        writer.Line("/// <summary>Writes the state's <see cref=\"Size\"/> floats to <paramref name=\"destination\"/>, e.g. into a saved game.</summary>");
        writer.Line("/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"destination\"/> does not hold exactly Size floats.</exception>");
        writer.Open("public void CopyTo(global::System.Span<float> destination)");
        writer.Line($"{Guard}.Length(destination.Length, Size, \"State.Size\", nameof(destination));");
        writer.Line("AsSpan(ref this).CopyTo(destination);");
        writer.Close();
        writer.Line();
        writer.Line("/// <summary>The state whose floats <see cref=\"CopyTo\"/> wrote: stepping on from it continues the sequence exactly.</summary>");
        writer.Line("/// <exception cref=\"global::System.ArgumentException\"><paramref name=\"values\"/> does not hold exactly Size floats.</exception>");
        writer.Open("public static State From(global::System.ReadOnlySpan<float> values)");
        writer.Line($"{Guard}.Length(values.Length, Size, \"State.Size\", nameof(values));");
        writer.Line("var state = default(State);");
        writer.Line("values.CopyTo(AsSpan(ref state));");
        writer.Line("return state;");
        writer.Close();
        writer.Line();
        WriteValues(writer);
        writer.Close();
    }

    /// <summary>The storage of a state struct: <c>Size</c> floats in one inline array.</summary>
    public static void WriteValues(SourceWriter writer)
    {
        writer.Line("[global::System.Runtime.CompilerServices.InlineArray(Size)]");
        writer.Open("private struct Values");
        writer.Line("#pragma warning disable CS0169, IDE0044, IDE0051 // the runtime lays out Size floats from this one field");
        writer.Line("private float _first;");
        writer.Line("#pragma warning restore CS0169, IDE0044, IDE0051");
        writer.Close();
    }

    private static void WriteStep(SourceWriter writer, Network network, List<StateSlot> slots)
    {
        var tokens = network.TakesTokens;
        var last = NetworkEmitter.LastComputingLayer(network);
        // Scratch: the widest gate row, the widest padded dense row, then the outputs of dense layers before the last.
        var gatesSize = network.Layers.OfType<RecurrentLayer>().Select(l => l.Gates * WeightPacking.Padded(l.HiddenSize)).DefaultIfEmpty(0).Max();
        var paddedSize = network.Layers.OfType<DenseLayer>().Select(l => WeightPacking.Padded(l.Output.Width)).DefaultIfEmpty(0).Max();
        var scratchSize = gatesSize + paddedSize;
        var denseOutputs = new Dictionary<int, int>();
        for (var i = 0; i < network.Layers.Count; i++)
        {
            if (network.Layers[i] is DenseLayer && i != last)
            {
                denseOutputs[network.Layers[i].Number] = scratchSize;
                scratchSize += network.Layers[i].Output.Width;
            }
        }

        writer.Line();
        writer.Line("/// <summary>Advances the network by one time step: every layer applied to this step, the recurrent layers");
        writer.Line("/// updating <paramref name=\"state\"/>. From a default state, feeding a sequence step by step gives what");
        writer.Line("/// <see cref=\"Predict\"/> gives at each step.</summary>");
        writer.Line("/// <param name=\"state\">Every layer's hidden (and cell) state; updated in place.</param>");
        writer.Line(tokens
            ? "/// <param name=\"token\">This step's token, in 0 .. VocabularySize - 1.</param>"
            : "/// <param name=\"x\">This step's InputSize features.</param>");
        writer.Line("/// <param name=\"y\">Receives StepOutputSize floats: the last layer's output for this step.</param>");
        writer.Line(NetworkEmitter.Optimized);
        writer.Open(tokens
            ? "public static void Step(ref State state, int token, global::System.Span<float> y)"
            : "public static void Step(ref State state, global::System.ReadOnlySpan<float> x, global::System.Span<float> y)");
        if (tokens)
            writer.Line($"{Guard}.Token(token, VocabularySize, nameof(token));");
        else
            writer.Line($"{Guard}.Length(x.Length, InputSize, \"InputSize\", nameof(x));");
        writer.Line($"{Guard}.Length(y.Length, StepOutputSize, \"StepOutputSize\", nameof(y));");
        NetworkEmitter.WriteScratch(writer, "StepScratch", System.Math.Max(1, scratchSize));
        writer.Line("var values = State.AsSpan(ref state);");

        var current = "x";
        for (var i = 0; i < network.Layers.Count; i++)
        {
            var layer = network.Layers[i];
            writer.Comment($"Layer {layer.Number}: {layer.Title}");
            var destination = i == last ? "y" : $"layer{layer.Number}Output";
            switch (layer)
            {
                case DropoutLayer:
                    writer.Comment("Dropout is the identity at inference.");
                    continue;
                case EmbeddingLayer embedding:
                    var width = embedding.Output.Width;
                    if (i == last)
                        writer.Line($"{Weights}.{embedding.Table.Name}.Slice(token * {width}, {width}).CopyTo(y);");
                    else
                        writer.Line($"var {destination} = {Weights}.{embedding.Table.Name}.Slice(token * {width}, {width});");
                    break;
                case DenseLayer dense:
                    int units = dense.Output.Width, padded = WeightPacking.Padded(units);
                    if (i != last)
                        writer.Line($"var {destination} = scratch.Slice({denseOutputs[layer.Number]}, {units});");
                    writer.Line($"var layer{layer.Number}Padded = scratch.Slice({gatesSize}, {padded});");
                    writer.Line($"{FastKernels}.Project<{NetworkEmitter.ShapeName(dense)}>({Weights}.{WeightsEmitter.WeightName(dense)}, {Weights}.{WeightsEmitter.BiasName(dense)}, {current}, rows: 1, layer{layer.Number}Padded);");
                    if (dense.Activation != Activation.None)
                        writer.Line($"{FastKernels}.Activate(layer{layer.Number}Padded, rows: 1, count: {units}, stride: {padded}, global::StaticRnn.Activation.{dense.Activation});");
                    writer.Line($"layer{layer.Number}Padded.Slice(0, {units}).CopyTo({destination});");
                    break;
                case RecurrentLayer recurrent:
                    var columns = recurrent.Gates * WeightPacking.Padded(recurrent.HiddenSize);
                    foreach (var slot in slots.Where(s => s.Layer == recurrent))
                    {
                        var cell = slot.Cell;
                        var name = $"layer{layer.Number}{(recurrent.Stack.Count > 1 ? $"L{cell.StackIndex}" : "")}State";
                        writer.Line($"var {name} = values.Slice({slot.Offset}, {slot.Size});");
                        // Keras mask_zero: a masked step leaves the state as it is, and the layers above read it unchanged.
                        if (network.MaskZero)
                            writer.Open("if (token != 0)");
                        NetworkEmitter.WriteCell(writer, recurrent, cell.StackIndex, cell, current, $"scratch.Slice(0, {columns})", name, steps: 1, rows: "1", count: "1", lengths: null,
                            outputs: "output: default, outputStride: 0, outputOffset: 0");
                        if (network.MaskZero)
                            writer.Close();
                        current = $"{name}.Slice(0, {recurrent.HiddenSize})";
                    }
                    if (i == last)
                        writer.Line($"{current}.CopyTo(y);");
                    continue;
            }
            current = destination;
        }
        if (last < 0)
            writer.Line("x.CopyTo(y);");
        writer.Close();
        NetworkEmitter.WriteThreadStaticScratch(writer, "StepScratch", System.Math.Max(1, scratchSize));
    }
}
