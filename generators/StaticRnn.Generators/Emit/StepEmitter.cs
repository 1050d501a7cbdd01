using System.Collections.Generic;
using System.Linq;
using StaticRnn.Generators.Model;

namespace StaticRnn.Generators.Emit;

/// <summary>Writes <c>State</c> and <c>Step</c> for unidirectional models: every layer applied to one time step,
/// the recurrent layers advancing the h (and c) they keep in <c>State</c>.</summary>
internal static class StepEmitter
{
    private const string Kernels = "global::StaticRnn.Runtime.Kernels";
    private const string Guard = "global::StaticRnn.Runtime.Guard";
    private const string Weights = WeightsEmitter.ClassName;

    /// <summary>Where one stacked layer's state lives inside <c>State</c>.</summary>
    private sealed record StateSlot(RecurrentLayer Layer, RecurrentCell Cell, int HOffset, int COffset);

    public static void Write(SourceWriter writer, Network network)
    {
        var slots = new List<StateSlot>();
        var size = 0;
        foreach (var layer in network.Layers.OfType<RecurrentLayer>())
        {
            foreach (var directions in layer.Stack)
            {
                var hOffset = size;
                size += layer.HiddenSize;
                var cOffset = -1;
                if (layer.HasCellState)
                {
                    cOffset = size;
                    size += layer.HiddenSize;
                }
                slots.Add(new StateSlot(layer, directions[0], hOffset, cOffset));
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
        writer.Line("/// zero state every sequence starts from. It is a plain value: copy it to keep a snapshot.");
        writer.Line("/// </summary>");
        writer.Line("/// <remarks>");
        writer.Line("/// Layout of the floats inside:");
        writer.Line("/// <code>");
        foreach (var slot in slots)
        {
            var name = $"layer {slot.Layer.Number}{(slot.Layer.Stack.Count > 1 ? $", stacked layer {slot.Cell.StackIndex}" : "")}";
            writer.Line($"/// {name,-28} h [{slot.HOffset}, {slot.HOffset + slot.Layer.HiddenSize})" +
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
        writer.Line("[global::System.Runtime.CompilerServices.InlineArray(Size)]");
        writer.Open("private struct Values");
        writer.Line("#pragma warning disable CS0169, IDE0044, IDE0051 // the runtime lays out Size floats from this one field");
        writer.Line("private float _first;");
        writer.Line("#pragma warning restore CS0169, IDE0044, IDE0051");
        writer.Close();
        writer.Close();
    }

    private static void WriteStep(SourceWriter writer, Network network, List<StateSlot> slots)
    {
        var tokens = network.TakesTokens;
        var scratchSize = 0;
        var dense = new Dictionary<int, int>();   // layer number -> offset of its output in scratch
        var last = NetworkEmitter.LastComputingLayer(network);
        var workOffset = 0;
        for (var i = 0; i < network.Layers.Count; i++)
        {
            if (network.Layers[i] is DenseLayer && i != last)
            {
                dense[network.Layers[i].Number] = scratchSize;
                scratchSize += network.Layers[i].Output.Width;
            }
        }
        workOffset = scratchSize;
        var work = network.Layers.OfType<RecurrentLayer>().Select(CellEmitter.WorkSize).DefaultIfEmpty(0).Max();
        scratchSize += work;

        writer.Line();
        writer.Line("/// <summary>Advances the network by one time step: every layer applied to this step, the recurrent layers");
        writer.Line("/// updating <paramref name=\"state\"/>. From a default state, feeding a sequence step by step gives what");
        writer.Line("/// <see cref=\"Predict\"/> gives at each step.</summary>");
        writer.Line("/// <param name=\"state\">Every layer's hidden (and cell) state; updated in place.</param>");
        writer.Line(tokens
            ? "/// <param name=\"token\">This step's token, in 0 .. VocabularySize - 1.</param>"
            : "/// <param name=\"x\">This step's InputSize features.</param>");
        writer.Line("/// <param name=\"y\">Receives StepOutputSize floats: the last layer's output for this step.</param>");
        writer.Open(tokens
            ? "public static void Step(ref State state, int token, global::System.Span<float> y)"
            : "public static void Step(ref State state, global::System.ReadOnlySpan<float> x, global::System.Span<float> y)");
        if (tokens)
            writer.Line($"{Guard}.Token(token, VocabularySize, nameof(token));");
        else
            writer.Line($"{Guard}.Length(x.Length, InputSize, \"InputSize\", nameof(x));");
        writer.Line($"{Guard}.Length(y.Length, StepOutputSize, \"StepOutputSize\", nameof(y));");
        if (scratchSize > 0)
            NetworkEmitter.WriteScratch(writer, "StepScratch", scratchSize);
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
                case DenseLayer denseLayer:
                    if (i != last)
                        writer.Line($"var {destination} = scratch.Slice({dense[layer.Number]}, {layer.Output.Width});");
                    var bias = denseLayer.Bias is null ? "default" : $"{Weights}.{denseLayer.Bias.Name}";
                    writer.Line($"{Kernels}.Dense({Weights}.{denseLayer.Weight.Name}, {bias}, {current}, {destination}, global::StaticRnn.Activation.{denseLayer.Activation});");
                    break;
                case RecurrentLayer recurrent:
                    foreach (var slot in slots.Where(s => s.Layer == recurrent))
                    {
                        var suffix = recurrent.Stack.Count > 1 ? $"L{slot.Cell.StackIndex}" : "";
                        var h = $"layer{layer.Number}{suffix}H";
                        writer.Line($"var {h} = values.Slice({slot.HOffset}, {recurrent.HiddenSize});");
                        var c = "";
                        if (slot.COffset >= 0)
                        {
                            c = $"layer{layer.Number}{suffix}C";
                            writer.Line($"var {c} = values.Slice({slot.COffset}, {recurrent.HiddenSize});");
                            c = ", " + c;
                        }
                        writer.Line($"{slot.Cell.Name}_Step({current}, {h}{c}, scratch.Slice({workOffset}, {CellEmitter.WorkSize(recurrent)}));");
                        current = h;
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
        NetworkEmitter.WriteThreadStaticScratch(writer, "StepScratch", scratchSize);
    }
}
