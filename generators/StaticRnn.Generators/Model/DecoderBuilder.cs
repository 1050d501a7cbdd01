using System.Collections.Generic;
using System.Linq;
using StaticRnn.Generators.Diagnostics;
using StaticRnn.Generators.Parsing;
using StaticRnn.Generators.Common;
using StaticRnn.Generators.Weights;
using StaticRnn.Runtime;

namespace StaticRnn.Generators.Model;

/// <summary>
/// Checks a decoder declaration against its encoder and binds its layers to the weight file. The decoder's layers are
/// planned like a model's and bound by the same <see cref="WeightBinder"/>: the recurrent layer as a layer reading
/// [embedded; context], the attention's Wa, Ua and Va and the bridge as dense layers under their own prefixes.
/// </summary>
internal static class DecoderBuilder
{
    /// <summary>The most floats a decoder's State may hold: .NET rejects inline arrays over 1 MiB.</summary>
    public const long MaxStateFloats = 1024 * 1024 / sizeof(float);

    public static Decoder? Build(DecoderSpec spec, Network encoder, WeightFile file, List<DiagnosticInfo> diagnostics)
    {
        var model = spec.Model;
        var errorsBefore = diagnostics.Count(d => d.IsError);
        void Layout(LocationInfo? location, string message) =>
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DecoderLayout, location ?? model.Location, model.ClassName, message));

        // The encoder: attention reads its output at every source position.
        var encoderLast = encoder.Layers.LastOrDefault(l => l is not DropoutLayer);
        if (encoderLast is not RecurrentLayer { ReturnSequences: true } top)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DecoderEncoderInvalid, model.LocationOf("encoder"), spec.EncoderName, model.ClassName,
                "attention reads the encoder's output at every source position, so its last layer must be recurrent with ReturnSequences = true; " +
                (encoderLast is RecurrentLayer ? $"set ReturnSequences = true on its layer {encoderLast.Number}, {encoderLast.Title}" : $"its last layer is layer {encoderLast?.Number}, {encoderLast?.Title}")));
            return null;
        }
        if (encoder.MaskZero)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DecoderEncoderInvalid, model.LocationOf("encoder"), spec.EncoderName, model.ClassName,
                "it masks token 0 (Embedding MaskZero = true), and the decoder attends over every source position as PyTorch's tutorial does; remove MaskZero"));
            return null;
        }
        var keyWidth = top.Output.Width;

        // The decoder's own layers: [Embedding], one recurrent layer, then dense layers; [Attention] once, [Bridge] at most once.
        var layers = model.Layers.Select((layer, i) => (Spec: layer, Number: spec.LayerNumbers[i])).Where(l => l.Spec.Kind != LayerKind.Dropout).ToList();
        foreach (var (layer, number) in layers)
            ShapeChecker.CheckArguments(layer, number, WeightConvention.PyTorch, diagnostics);
        var embedding = layers.FirstOrDefault(l => l.Spec.Kind == LayerKind.Embedding);
        var recurrents = layers.Where(l => l.Spec.IsRecurrent).ToList();
        if (layers.Count == 0 || layers[0].Spec.Kind != LayerKind.Embedding)
            Layout(layers.Count > 0 ? layers[0].Spec.Location : null, "expected [Embedding] first (it reads the previous token); found " +
                (layers.Count == 0 ? "no layers" : $"layer {layers[0].Number}, {LayerText.Title(layers[0].Spec)}"));
        foreach (var extra in layers.Skip(1).Where(l => l.Spec.Kind == LayerKind.Embedding))
            Layout(extra.Spec.Location, $"expected one [Embedding]; found another at layer {extra.Number}");
        if (recurrents.Count != 1)
            Layout(recurrents.Count > 1 ? recurrents[1].Spec.Location : null,
                $"expected one recurrent layer ([Gru], [Lstm] or [SimpleRnn]) after the [Embedding]; found {recurrents.Count}");
        var recurrentIndex = recurrents.Count > 0 ? layers.IndexOf(recurrents[0]) : -1;
        if (recurrents.Count > 0)
        {
            var r = recurrents[0].Spec;
            if (r.Layers != 1 || r.Bidirectional)
                Layout(r.LocationOf(r.Bidirectional ? "Bidirectional" : "Layers"),
                    $"the decoder's recurrent layer advances one step at a time from one state, so it has one level and one direction; found {LayerText.Title(r)}");
        }
        var head = recurrentIndex < 0 ? [] : layers.Skip(recurrentIndex + 1).ToList();
        foreach (var misplaced in layers.Skip(1).Take(System.Math.Max(0, recurrentIndex - 1)).Where(l => l.Spec.Kind == LayerKind.Dense))
            Layout(misplaced.Spec.Location, $"expected the [Dense] layers after the recurrent layer (they turn its h into logits); found layer {misplaced.Number}, {LayerText.Title(misplaced.Spec)} before it");
        if (recurrentIndex >= 0 && head.Count == 0)
            Layout(recurrents[0].Spec.Location, "expected at least one [Dense] after the recurrent layer: the last one gives the logits of the next token; found none");
        if (spec.Attentions.Count != 1)
            Layout(spec.Attentions.Count > 1 ? spec.Attentions[1].Location : null,
                $"expected one [Attention(units)] (Bahdanau attention over the encoder's outputs); found {spec.Attentions.Count}");
        if (spec.Attentions.Count > 0 && spec.Attentions[0].Units is < 1 or > ShapeChecker.MaxDimension)
            Layout(spec.Attentions[0].LocationOf("units"), $"Attention's units must be between 1 and {ShapeChecker.MaxDimension}; found {spec.Attentions[0].Units}");
        if (spec.Bridges.Count > 1)
            Layout(spec.Bridges[1].Location, $"expected at most one [Bridge]; found {spec.Bridges.Count}");
        if (spec.Bridges.Count > 0 && spec.Bridges[0].Activation is not (Activation.Tanh or Activation.None))
            Layout(spec.Bridges[0].LocationOf("Activation"), $"a Bridge's Activation is Tanh (Bahdanau et al.) or None; found {spec.Bridges[0].Activation}");
        if (spec.Bridges.Count > 0 && recurrents.Count == 1)
        {
            var declared = spec.Bridges[0];
            var lstmDecoder = recurrents[0].Spec.Kind == LayerKind.Lstm;
            if (!lstmDecoder && declared.CellWeights is not null)
                Layout(declared.LocationOf("CellWeights"), $"CellWeights is the bridge to an LSTM decoder's c, but the decoder's layer is {LayerText.Title(recurrents[0].Spec)}, which has none; remove it");
            if (lstmDecoder && declared.Weights is null)
                Layout(declared.Location, "an LSTM decoder's [Bridge] needs Weights, the prefix of its h part (its c part is {Weights}_cell, or CellWeights): " +
                    "both parts have the same shape, so neither can be told apart by it");
        }
        if (spec.MaxLength is not (>= 1 and <= ShapeChecker.MaxDimension))
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DecoderArgumentInvalid, model.LocationOf("MaxLength"), "MaxLength",
                spec.MaxLength?.ToString() ?? "not set", $"the most tokens one translation writes, 1 to {ShapeChecker.MaxDimension}"));
        if (diagnostics.Count(d => d.IsError) > errorsBefore)
            return null;

        var vocabulary = embedding.Spec.VocabularySize;
        var logits = head[head.Count - 1].Spec;
        if (logits.Activation is not (Activation.None or Activation.LogSoftmax))
            Layout(logits.LocationOf("Activation"), $"the last layer gives the logits, which greedy decoding takes the largest of and beam search the " +
                $"log-softmax of; found Activation = {logits.Activation} on {LayerText.Title(logits)}: remove it (or use LogSoftmax)");
        if (logits.Size > vocabulary)
            Layout(logits.Location, $"the last layer, {LayerText.Title(logits)}, scores {logits.Size} tokens, but the [Embedding] reads only {vocabulary}: " +
                "each token the decoder writes is its next step's input");
        foreach (var (name, token) in new[] { ("StartToken", spec.StartToken), ("EndToken", spec.EndToken) })
        {
            if ((uint)token >= (uint)System.Math.Min(vocabulary, logits.Size))
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DecoderArgumentInvalid, model.LocationOf(name), name, token,
                    $"a target token, 0 to {System.Math.Min(vocabulary, logits.Size) - 1}"));
        }
        if (diagnostics.Count(d => d.IsError) > errorsBefore)
            return null;

        // Plans: what each part reads and hands on, as the binder checks tensor shapes against them.
        var attentionSpec = spec.Attentions[0];
        var recurrentSpec = recurrents[0].Spec;
        int embeddingSize = embedding.Spec.Size, hidden = recurrentSpec.Size, units = attentionSpec.Units;
        var plans = new List<LayerPlan>
        {
            new(embedding.Spec, embedding.Number, new Flow(true, 1), new Flow(true, embeddingSize)),
            new(recurrentSpec, recurrents[0].Number, new Flow(true, embeddingSize + keyWidth), new Flow(false, hidden)),
        };
        var headPlans = new List<LayerPlan>();
        var width = hidden;
        foreach (var (dense, number) in head)
        {
            headPlans.Add(new LayerPlan(dense, number, new Flow(false, width), new Flow(false, dense.Size)));
            width = dense.Size;
        }
        plans.AddRange(headPlans);

        var prefix = attentionSpec.Weights ?? AttentionPrefix(spec, file, hidden, keyWidth, diagnostics);
        if (prefix is null)
            return null;
        var attentionTitle = $"Attention({units})";
        // A wrong unit count would fail every attention tensor: one error, saying the count the file has.
        if (file.Find(Join(prefix, "Wa.weight")) is { Shape.Count: 2 } wa && wa.Shape[0] != units)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.TensorShapeMismatch, attentionSpec.LocationOf("units"),
                $"layer {attentionSpec.Number}, {attentionTitle}", wa.Name, $"[{units}, {hidden}]", "units by the decoder's hidden size",
                $"[{wa.Shape[0]}, {wa.Shape[1]}]", $"; did you mean [Attention({wa.Shape[0]}{(attentionSpec.Weights is null ? "" : ", Weights = \"" + attentionSpec.Weights + "\"")})]?"));
            return null;
        }
        LayerPlan Part(string suffix, int inputs, int outputs, string what) =>
            new(Dense(outputs, Join(prefix, suffix), Activation.None, attentionSpec.Location, attentionSpec.ArgumentLocations), attentionSpec.Number,
                new Flow(false, inputs), new Flow(false, outputs), $"{attentionTitle}'s {what} {suffix}");
        var (queryPlan, keysPlan, scorePlan) = (Part("Wa", hidden, units, "query projection"), Part("Ua", keyWidth, units, "key projection"), Part("Va", units, 1, "score vector"));
        plans.AddRange([queryPlan, keysPlan, scorePlan]);
        LayerPlan? bridgePlan = null, bridgeCellPlan = null;

        var directions = top.Bidirectional ? 2 : 1;
        var bridgeSpec = spec.Bridges.Count > 0 ? spec.Bridges[0] : null;
        var lstm = recurrentSpec.Kind == LayerKind.Lstm;
        if (bridgeSpec is not null)
        {
            var title = bridgeSpec.Activation == Activation.None ? "Bridge(Activation = None)" : "Bridge";
            bridgePlan = new LayerPlan(Dense(hidden, bridgeSpec.Weights, bridgeSpec.Activation, bridgeSpec.Location, bridgeSpec.ArgumentLocations), bridgeSpec.Number,
                new Flow(false, directions * top.HiddenSize), new Flow(false, hidden), $"{title} to the initial h");
            plans.Add(bridgePlan);
            if (lstm)
            {
                if (!top.HasCellState)
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DecoderInitialState, recurrentSpec.Location,
                        $"Decoder '{model.ClassName}' is an LSTM, whose bridge computes the initial c from the encoder's final c, but the encoder's last layer, {top.Title}, has no c",
                        "make the encoder an LSTM, or the decoder a GRU"));
                    return null;
                }
                var cellWeights = bridgeSpec.CellWeights ?? bridgeSpec.Weights + "_cell";
                // Errors about the c part point at CellWeights where it is written.
                var cellArguments = bridgeSpec.ArgumentLocations.Find("CellWeights") is { } written
                    ? bridgeSpec.ArgumentLocations.Where(a => a.Name != "Weights").Append(new ArgumentLocation("Weights", written)).ToEquatableArray()
                    : bridgeSpec.ArgumentLocations;
                bridgeCellPlan = new LayerPlan(Dense(hidden, cellWeights, bridgeSpec.Activation, bridgeSpec.Location, cellArguments), bridgeSpec.Number,
                    new Flow(false, directions * top.HiddenSize), new Flow(false, hidden), $"{title} to the initial c");
                plans.Add(bridgeCellPlan);
            }
        }
        else if (directions != 1 || top.HiddenSize != hidden || (lstm && !top.HasCellState))
        {
            var needs = lstm ? $"h and c of {hidden}" : $"h of {hidden}";
            var has = $"{(directions == 2 ? "two directions' h" : "h")} of {top.HiddenSize}{(top.HasCellState ? " (and c)" : "")}";
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.DecoderInitialState, recurrentSpec.Location,
                $"Decoder '{model.ClassName}' starts from the encoder's final state, {has} (its layer {top.Number}, {top.Title}), but layer {recurrents[0].Number}, {LayerText.Title(recurrentSpec)}, needs {needs}",
                BridgeHint(file, hidden, directions * top.HiddenSize, plans)));
            return null;
        }

        // State holds the sentence (keys and their projections) in an inline array, which .NET limits to 1 MiB.
        // (As DecoderEmitter lays it out: the keys on whole blocks, their projections, then h twice and an LSTM's c.)
        var stateFloats = WeightPacking.Padded(encoder.SequenceLength * keyWidth) + (long)encoder.SequenceLength * WeightPacking.Padded(units)
            + WeightPacking.Padded(hidden) * (lstm ? 3L : 2L);
        if (stateFloats > MaxStateFloats)
        {
            Layout(model.LocationOf("encoder"), $"its State would hold {stateFloats:N0} floats (SourceLength {encoder.SequenceLength} × (the encoder's output width " +
                $"{keyWidth} + the attention's padded units {WeightPacking.Padded(units)}) and the recurrent state), over the {MaxStateFloats:N0} (1 MiB) that .NET allows " +
                "a value type's inline array; shorten the source or narrow the encoder or the attention");
            return null;
        }

        var bound = WeightBinder.For(model with { Convention = WeightConvention.PyTorch }, file, diagnostics).Bind(plans);
        if (bound is null || diagnostics.Count(d => d.IsError) > errorsBefore)
            return null;

        // The binder hands back one layer per plan, in order.
        var layerOf = new Dictionary<LayerPlan, NetworkLayer>();
        for (var i = 0; i < plans.Count; i++)
            layerOf[plans[i]] = bound[i];
        DenseLayer Named(LayerPlan plan, string stem)
        {
            var layer = (DenseLayer)layerOf[plan];
            layer.Stem = stem;
            return layer;
        }
        var boundEmbedding = (EmbeddingLayer)layerOf[plans[0]];
        var boundRecurrent = (RecurrentLayer)layerOf[plans[1]];
        var boundHead = headPlans.Select(p => (DenseLayer)layerOf[p]).ToList();
        var attention = new AttentionLayer(attentionSpec.Number, attentionTitle, new Flow(false, hidden), new Flow(false, keyWidth),
            Named(queryPlan, "AttentionQuery"), Named(keysPlan, "AttentionKeys"), ((DenseLayer)layerOf[scorePlan]).Weight)
        {
            Stem = "Attention",
        };
        var bridge = bridgePlan is null ? null : Named(bridgePlan, "Bridge");
        var bridgeCell = bridgeCellPlan is null ? null : Named(bridgeCellPlan, "BridgeCell");

        var all = new List<NetworkLayer> { boundEmbedding, attention, boundRecurrent };
        all.AddRange(boundHead);
        if (bridge is not null)
            all.Add(bridge);
        if (bridgeCell is not null)
            all.Add(bridgeCell);
        var network = new Network(model with { SequenceLength = spec.MaxLength }, inputSize: 1, vocabularySize: vocabulary, all);
        return new Decoder(spec, encoder, top, network, boundEmbedding, attention, boundRecurrent, boundHead, bridge, bridgeCell);
    }

    private static LayerSpec Dense(int units, string? weights, Activation activation, LocationInfo? location, Common.EquatableArray<ArgumentLocation> arguments) =>
        new(LayerKind.Dense, units, 0, weights, 1, false, false, MergeMode.Concat, false, false, true, activation, 0f, location, arguments);

    private static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>The one prefix under which the file has Wa, Ua and Va; null after reporting none or several.</summary>
    private static string? AttentionPrefix(DecoderSpec spec, WeightFile file, int hidden, int keyWidth, List<DiagnosticInfo> diagnostics)
    {
        var attention = spec.Attentions[0];
        var candidates = file.Tensors.Select(t => t.Name)
            .Where(n => n == "Wa.weight" || n.EndsWith(".Wa.weight", System.StringComparison.Ordinal))
            .Select(n => n.Substring(0, System.Math.Max(0, n.Length - ".Wa.weight".Length)))
            .Where(p => file.Find(Join(p, "Ua.weight")) is not null && file.Find(Join(p, "Va.weight")) is not null)
            .Distinct().ToList();
        if (candidates.Count == 1)
            return candidates[0];
        var expected = $"'<prefix>.Wa.weight' [{attention.Units}, {hidden}], '<prefix>.Ua.weight' [{attention.Units}, {keyWidth}] and '<prefix>.Va.weight' [1, {attention.Units}]";
        var found = candidates.Count == 0
            ? "the weight file has no group of Wa, Ua and Va" + Nearby(file)
            : $"{candidates.Count} groups have them ({string.Join(", ", candidates.Select(c => "'" + c + "'"))}); set Weights to one of them";
        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.AttentionWeightsNotFound, attention.Location,
            $"Layer {attention.Number}, Attention({attention.Units})", expected, found));
        return null;
    }

    private static string Nearby(WeightFile file)
    {
        var names = file.Tensors.Select(t => t.Name).Where(n => n.IndexOf("att", System.StringComparison.OrdinalIgnoreCase) >= 0).Take(6).ToList();
        return names.Count == 0 ? "" : "; tensors that may be attention's: " + string.Join(", ", names.Select(n => "'" + n + "'"));
    }

    /// <summary>The fix for a decoder whose state the encoder's cannot be: a bridge, named after a tensor of the right
    /// shape where the file has one.</summary>
    private static string BridgeHint(WeightFile file, int hidden, int inputs, IReadOnlyList<LayerPlan> plans)
    {
        var named = new HashSet<string>(plans.Select(p => p.Spec.Weights).Where(w => w is not null)!);
        var fitting = file.Tensors
            .Where(t => t.Name.EndsWith(".weight", System.StringComparison.Ordinal) && t.Shape.Count == 2 && t.Shape[0] == hidden && t.Shape[1] == inputs)
            .Select(t => t.Name.Substring(0, t.Name.Length - ".weight".Length))
            .Where(p => !named.Contains(p)).ToList();
        return fitting.Count > 0
            ? $"add [Bridge(Weights = \"{fitting[0]}\")] (the weight file has '{fitting[0]}.weight' [{hidden}, {inputs}])"
            : $"add [Bridge(Weights = \"...\")] naming an nn.Linear from the encoder's final states ({inputs}) to {hidden}, as Bahdanau et al. compute s0 = tanh(W h)";
    }
}
