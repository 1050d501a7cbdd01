using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using StaticRnn.Generators.Model;
using StaticRnn.Generators.Parsing;
using StaticRnn.Runtime;

namespace StaticRnn.Generators.Emit;

/// <summary>
/// Writes, for each small recurrent layer (at most 16 hidden units), the code of one step written
/// out for its sizes, with the hidden (and cell) state in vector registers for the whole sequence. Each gate's units
/// fill one vector (<c>Vector128</c> up to 4 units, <c>Vector256</c> up to 8, <c>Vector512</c> up to 16); h · W_hh
/// broadcasts each lane of h from the register and sums the products in a tree; the gates go straight through
/// <c>GateMath</c>'s sigmoid and tanh. A step is then its latency chain and nothing else, about half the time of
/// the general kernels, whose gate sums go through memory. Small inputs (up to <see cref="MaxFoldedInputs"/> values per
/// step) are multiplied in here too, so the layer needs no separate input projection.
/// The forward pass calls these for one sequence where the vector is hardware-accelerated (Predict, Step, the last
/// sequence of a batch); otherwise, and for batches, the runtime's general kernels run.
/// </summary>
/// <remarks>
/// Written with the vector types' own methods, not through the runtime's width-generic wrappers: the JIT compiles each
/// generic operation by resolving and inlining a method, and this code is compiled by the first call of a model.
/// </remarks>
internal static class RegisterKernelEmitter
{
    public const int MaxHidden = 16;
    public const int MaxFoldedInputs = 4;
    private const int B = WeightPacking.Block;

    public static bool Applies(RecurrentLayer layer) => layer.HiddenSize <= MaxHidden;

    /// <summary>Lanes of the vector that holds one gate of <paramref name="layer"/>: 4, 8 or 16.</summary>
    public static int Lanes(RecurrentLayer layer) => layer.HiddenSize <= 4 ? 4 : layer.HiddenSize <= 8 ? 8 : 16;

    /// <summary>The vector class, e.g. <c>global::System.Runtime.Intrinsics.Vector256</c>.</summary>
    public static string VectorClass(RecurrentLayer layer) => $"global::System.Runtime.Intrinsics.Vector{Lanes(layer) * 32}";

    /// <summary>The alias the kernels file uses for <see cref="VectorClass"/>.</summary>
    private static string Alias(RecurrentLayer layer) => $"StaticRnnVector{Lanes(layer) * 32}";

    public static bool FoldsInput(RecurrentLayer layer, int stackIndex) => layer.Stack[stackIndex][0].InputWidth <= MaxFoldedInputs;

    public static string MethodName(RecurrentLayer layer, int stackIndex) =>
        layer.Stack.Count > 1 ? $"Layer{layer.Number}_L{stackIndex}InRegisters" : $"Layer{layer.Number}InRegisters";

    /// <summary>The file-level aliases the kernels use (written before the namespace), if the network has small layers.</summary>
    public static void WriteUsings(SourceWriter writer, Network network)
    {
        var layers = network.Layers.OfType<RecurrentLayer>().Where(Applies).ToList();
        if (layers.Count == 0)
            return;
        foreach (var lanes in layers.Select(Lanes).Distinct().OrderBy(l => l))
            writer.Line($"using StaticRnnVector{lanes * 32} = global::System.Runtime.Intrinsics.Vector{lanes * 32};");
        writer.Line("using StaticRnnGateMath = global::StaticRnn.Runtime.GateMath;");
        writer.Line();
    }

    /// <summary>One kernel per level of each small recurrent layer.</summary>
    public static void WriteKernels(SourceWriter writer, Network network)
    {
        foreach (var layer in network.Layers.OfType<RecurrentLayer>().Where(Applies))
        {
            for (var k = 0; k < layer.Stack.Count; k++)
            {
                writer.Line();
                WriteKernel(writer, layer, k);
            }
        }
    }

    private static void WriteKernel(SourceWriter writer, RecurrentLayer layer, int k)
    {
        var hidden = layer.HiddenSize;
        var lanes = Lanes(layer);
        var v = Alias(layer);
        var inputs = layer.Stack[k][0].InputWidth;
        var folds = FoldsInput(layer, k);
        var row = layer.Gates * B;
        var gateNames = GateNames(layer);
        var level = layer.Stack.Count > 1 ? $" (level {k} of the stack)" : "";

        writer.Line($"/// <summary>Layer {layer.Number}, {NetworkEmitter.Xml(layer.Title)}{level}, over one sequence: the {hidden} unit{(hidden == 1 ? "" : "s")} of each gate in");
        writer.Line($"/// one Vector{lanes * 32}, h{(layer.HasCellState ? " and c" : "")} in registers from the first step to the last.");
        writer.Line(folds
            ? $"/// <paramref name=\"input\"/>: [steps][{inputs}], the layer's input; x_t · W_ih + b is formed here.</summary>"
            : $"/// <paramref name=\"input\"/>: [steps][{row}], x_t · W_ih + b for every step (the input projection).</summary>");
        writer.Line(NetworkEmitter.Optimized);
        writer.Line($"private static void {MethodName(layer, k)}(global::System.ReadOnlySpan<float> input, global::System.ReadOnlySpan<float> inputWeights, global::System.ReadOnlySpan<float> bias,");
        writer.Line("    global::System.ReadOnlySpan<float> recurrentWeights, global::System.ReadOnlySpan<float> cellVectors, global::System.Span<float> state, int steps, bool reverse,");
        writer.Line("    global::System.Span<float> output, int outputStride, int outputOffset)");
        writer.Open();
        writer.Line("ref var x = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(input);");
        if (folds)
        {
            writer.Line("ref var wx = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(inputWeights);");
            writer.Line("ref var b = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(bias);");
        }
        writer.Line("ref var w = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(recurrentWeights);");
        writer.Line("ref var s = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(state);");
        writer.Line("ref var y = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(output);");
        if (hidden != lanes)
            writer.Line($"global::System.Span<float> lanes = stackalloc float[{lanes}];");
        var vectors = CellVectorNames(layer);
        if (vectors.Count > 0)
        {
            writer.Line("ref var p = ref global::System.Runtime.InteropServices.MemoryMarshal.GetReference(cellVectors);");
            for (var q = 0; q < vectors.Count; q++)
                writer.Line($"var {vectors[q]} = {v}.LoadUnsafe(ref p, {q * B});");
        }
        if (folds)
        {
            for (var q = 0; q < gateNames.Length; q++)
                writer.Line($"var b{gateNames[q]} = {v}.LoadUnsafe(ref b, {q * B});");
        }
        writer.Line($"var h = {v}.LoadUnsafe(ref s, 0);");
        if (layer.HasCellState)
            writer.Line($"var c = {v}.LoadUnsafe(ref s, {2 * B});");
        writer.Comment($"W_hh: row j at {row}·j, the gates {string.Join(", ", gateNames)} at +{string.Join(", +", Enumerable.Range(0, gateNames.Length).Select(q => q * B))}.");
        writer.Open("for (var step = 0; step < steps; step++)");
        writer.Line("var t = reverse ? steps - 1 - step : step;");

        // The step's input part of each gate.
        if (folds)
        {
            writer.Comment($"x_t · W_ih + b");
            for (var j = 0; j < inputs; j++)
                writer.Line($"var x{j} = {v}.Create(global::System.Runtime.CompilerServices.Unsafe.Add(ref x, {(inputs == 1 ? "t" : $"t * {inputs} + {j}")}));");
            for (var q = 0; q < gateNames.Length; q++)
            {
                var sum = $"b{gateNames[q]}";
                for (var j = 0; j < inputs; j++)
                    sum = $"{v}.MultiplyAddEstimate(x{j}, {v}.LoadUnsafe(ref wx, {j * row + q * B}), {sum})";
                writer.Line($"var {gateNames[q]} = {sum};");
            }
        }
        else
        {
            writer.Line($"ref var projected = ref global::System.Runtime.CompilerServices.Unsafe.Add(ref x, t * {row});");
            for (var q = 0; q < gateNames.Length; q++)
                writer.Line($"var {gateNames[q]} = {v}.LoadUnsafe(ref projected, {q * B});");
        }

        switch (layer.Cell)
        {
            case LayerKind.Lstm:
                WriteLstmStep(writer, layer, v);
                break;
            case LayerKind.Gru:
                WriteGruStep(writer, layer, v);
                break;
            default:
                WriteBroadcasts(writer, layer, v, "h", "h_{t-1}");
                writer.Comment("+ h_{t-1} · W_hh");
                WriteProduct(writer, layer, v, "h", 0, "a", "a");
                writer.Line($"h = {Activate(layer.Activation, "a")};");
                break;
        }

        writer.Open("if (!output.IsEmpty)");
        if (hidden == lanes)
            writer.Line($"{v}.StoreUnsafe(h, ref global::System.Runtime.CompilerServices.Unsafe.Add(ref y, t * outputStride + outputOffset));");
        else
        {
            writer.Comment($"Only the {hidden} units: the rest of the row belongs to the other direction or the next step.");
            writer.Line($"{v}.StoreUnsafe(h, ref lanes[0]);");
            writer.Line($"lanes.Slice(0, {hidden}).CopyTo(output.Slice(t * outputStride + outputOffset, {hidden}));");
        }
        writer.Close();
        writer.Close();
        writer.Line($"{v}.StoreUnsafe(h, ref s);");
        if (layer.HasCellState)
            writer.Line($"{v}.StoreUnsafe(c, ref s, {2 * B});");
        writer.Close();
    }

    private static void WriteLstmStep(SourceWriter writer, RecurrentLayer layer, string v)
    {
        var peephole = layer.Form.Peephole;
        var coupled = layer.Form.CoupledInputForget;
        WriteBroadcasts(writer, layer, v, "h", "h_{t-1}");
        writer.Comment("+ h_{t-1} · W_hh");
        WriteProduct(writer, layer, v, "h", 0, "i", "i");
        if (!coupled)
            WriteProduct(writer, layer, v, "h", B, "f", "f");
        WriteProduct(writer, layer, v, "h", 2 * B, "g", "g");
        WriteProduct(writer, layer, v, "h", 3 * B, "o", "o");
        if (peephole)
        {
            writer.Comment("Peepholes: i and f see c_{t-1}, o sees c_t.");
            writer.Line($"i = {v}.MultiplyAddEstimate(peepholeI, c, i);");
            if (!coupled)
                writer.Line($"f = {v}.MultiplyAddEstimate(peepholeF, c, f);");
        }
        writer.Line("i = StaticRnnGateMath.Sigmoid(i);");
        writer.Line("g = StaticRnnGateMath.Tanh(g);");
        if (coupled)
        {
            writer.Comment("f = 1 - i: c + i · (g - c)");
            writer.Line($"c = {v}.MultiplyAddEstimate(i, g - c, c);");
        }
        else
            writer.Line($"c = {v}.MultiplyAddEstimate(StaticRnnGateMath.Sigmoid(f), c, i * g);");
        if (peephole)
            writer.Line($"o = {v}.MultiplyAddEstimate(peepholeO, c, o);");
        writer.Line("h = StaticRnnGateMath.Sigmoid(o) * StaticRnnGateMath.Tanh(c);");
    }

    private static void WriteGruStep(SourceWriter writer, RecurrentLayer layer, string v)
    {
        WriteBroadcasts(writer, layer, v, "h", "h_{t-1}");
        writer.Comment("+ h_{t-1} · W_hh");
        WriteProduct(writer, layer, v, "h", 0, "r", "r");
        WriteProduct(writer, layer, v, "h", B, "z", "z");
        writer.Line("r = StaticRnnGateMath.Sigmoid(r);");
        writer.Line("z = StaticRnnGateMath.Sigmoid(z);");
        if (layer.Form.ResetAfter)
        {
            writer.Comment("n = tanh(x_t · W_in + b_in + r ⊙ (h_{t-1} · W_hn + b_hn))");
            WriteProduct(writer, layer, v, "h", 2 * B, "hiddenBias", "hn");
            writer.Line($"n = StaticRnnGateMath.Tanh({v}.MultiplyAddEstimate(r, hn, n));");
        }
        else
        {
            writer.Comment("n = tanh(x_t · W_in + b_n + (r ⊙ h_{t-1}) · W_hn)");
            writer.Line("var rh = r * h;");
            WriteBroadcasts(writer, layer, v, "rh", "r ⊙ h_{t-1}");
            WriteProduct(writer, layer, v, "rh", 2 * B, "n", "n");
            writer.Line("n = StaticRnnGateMath.Tanh(n);");
        }
        writer.Comment("(1 - z) · n + z · h");
        writer.Line($"h = {v}.MultiplyAddEstimate(z, h - n, n);");
    }

    /// <summary>Lane j of <paramref name="vector"/> across a whole vector, for every unit j.</summary>
    private static void WriteBroadcasts(SourceWriter writer, RecurrentLayer layer, string v, string vector, string what)
    {
        writer.Comment($"{what}, each unit across a whole vector");
        for (var j = 0; j < layer.HiddenSize; j++)
            writer.Line($"var {vector}{j} = {v}.Shuffle({vector}, {v}.Create({j}));");
    }

    /// <summary>
    /// <paramref name="target"/> = <paramref name="start"/> + Σ_j vector_j · W[j] for one gate: the products in pairs,
    /// one line each (the second of a pair an FMA over the first's product), then their balanced sum, so that the chain
    /// is about log2(hidden) operations deep instead of hidden.
    /// </summary>
    private static void WriteProduct(SourceWriter writer, RecurrentLayer layer, string v, string vector, int offset, string start, string target)
    {
        var row = layer.Gates * B;
        string W(int j) => $"{v}.LoadUnsafe(ref w, {j * row + offset})";
        var terms = new List<string>();
        for (var j = 0; j < layer.HiddenSize; j += 2)
        {
            var first = j == 0 ? $"{v}.MultiplyAddEstimate({vector}{j}, {W(j)}, {start})" : $"{vector}{j} * {W(j)}";
            var pair = j + 1 < layer.HiddenSize ? $"{v}.MultiplyAddEstimate({vector}{j + 1}, {W(j + 1)}, {first})" : first;
            if (layer.HiddenSize <= 2)
            {
                terms.Add(pair);
                continue;
            }
            var name = $"{target}{j}{(j + 1 < layer.HiddenSize ? (j + 1).ToString(CultureInfo.InvariantCulture) : "")}";
            writer.Line($"var {name} = {pair};");
            terms.Add(name);
        }
        while (terms.Count > 1)
        {
            var next = new List<string>();
            for (var i = 0; i < terms.Count; i += 2)
                next.Add(i + 1 < terms.Count ? $"({terms[i]} + {terms[i + 1]})" : terms[i]);
            terms = next;
        }
        var sum = terms[0];
        if (sum.StartsWith("(", System.StringComparison.Ordinal) && sum.EndsWith(")", System.StringComparison.Ordinal))
            sum = sum.Substring(1, sum.Length - 2);
        writer.Line($"{(target == start ? "" : "var ")}{target} = {sum};");
    }

    private static string Activate(Activation activation, string value) => activation switch
    {
        Activation.Tanh => $"StaticRnnGateMath.Tanh({value})",
        Activation.Sigmoid => $"StaticRnnGateMath.Sigmoid({value})",
        Activation.Relu => $"StaticRnnGateMath.Relu({value})",
        _ => value,
    };

    private static string[] GateNames(RecurrentLayer layer) => layer.Cell switch
    {
        LayerKind.Lstm => ["i", "f", "g", "o"],
        LayerKind.Gru => ["r", "z", "n"],
        _ => ["a"],
    };

    /// <summary>The per-unit vectors not summed into the gates: b_hn, or the peepholes.</summary>
    private static List<string> CellVectorNames(RecurrentLayer layer) =>
        layer.Cell == LayerKind.Gru && layer.Form.ResetAfter ? ["hiddenBias"]
        : layer.Cell == LayerKind.Lstm && layer.Form.Peephole ? ["peepholeI", "peepholeF", "peepholeO"]
        : [];
}
