using StaticRnn.Generators.Model;
using StaticRnn.Generators.Parsing;

namespace StaticRnn.Generators.Emit;

/// <summary>Writes one method per recurrent cell (one direction of one stacked layer) that advances its state by
/// one time step. <c>ForwardPass</c> and <c>Step</c> both call it, so the two compute bit-identical results.</summary>
internal static class CellEmitter
{
    private const string Kernels = "global::StaticRnn.Runtime.Kernels";
    private const string Weights = WeightsEmitter.ClassName;

    /// <summary>Floats of gate work one step needs: the gate pre-activations (GRU keeps the input and the
    /// recurrent products apart, because the reset gate scales only the latter).</summary>
    public static int WorkSize(RecurrentLayer layer) =>
        layer.Cell == LayerKind.Gru ? 2 * layer.Gates * layer.HiddenSize : layer.Gates * layer.HiddenSize;

    public static void WriteStepMethod(SourceWriter writer, RecurrentLayer layer, RecurrentCell cell)
    {
        var hidden = layer.HiddenSize;
        var direction = !layer.Bidirectional ? "" : cell.Backward ? ", backward" : ", forward";
        var stackIndex = layer.Stack.Count > 1 ? $", stacked layer {cell.StackIndex}" : "";
        var x = $"{Weights}.{cell.InputWeights.Name}";
        var h = $"{Weights}.{cell.RecurrentWeights.Name}";
        var b = $"{Weights}.{cell.Bias.Name}";
        const string In = "global::System.ReadOnlySpan<float>";
        const string Out = "global::System.Span<float>";

        writer.Line();
        switch (layer.Cell)
        {
            case LayerKind.Lstm:
                writer.Line($"/// <summary>Layer {layer.Number}, {layer.Title}{stackIndex}{direction}: one step, {cell.InputWidth} inputs -> {hidden} state.</summary>");
                writer.Open($"private static void {cell.Name}_Step({In} x, {Out} h, {Out} c, {Out} work)");
                writer.Line("// gates = W_ih x + W_hh h + (b_ih + b_hh), blocks i, f, g, o; then c and h");
                writer.Line($"{Kernels}.MatVec({x}, x, work);");
                writer.Line($"{Kernels}.MatVecAccumulate({h}, h, work);");
                writer.Line($"{Kernels}.Add({b}, work);");
                writer.Line($"{Kernels}.LstmUpdate(work, c, h);");
                writer.Close();
                break;
            case LayerKind.Gru:
                writer.Line($"/// <summary>Layer {layer.Number}, {layer.Title}{stackIndex}{direction}: one step, {cell.InputWidth} inputs -> {hidden} state.</summary>");
                writer.Open($"private static void {cell.Name}_Step({In} x, {Out} h, {Out} work)");
                writer.Line($"var inputGates = work.Slice(0, {3 * hidden});");
                writer.Line($"var hiddenGates = work.Slice({3 * hidden}, {3 * hidden});");
                writer.Line("// W_ih x + b_ih (+ b_hh for r and z) and W_hh h apart, blocks r, z, n: the reset gate scales W_hn h + b_hn only");
                writer.Line($"{Kernels}.MatVec({x}, x, inputGates);");
                writer.Line($"{Kernels}.Add({b}, inputGates);");
                writer.Line($"{Kernels}.MatVec({h}, h, hiddenGates);");
                writer.Line($"{Kernels}.GruUpdate(inputGates, hiddenGates, {Weights}.{cell.HiddenBias!.Name}, h);");
                writer.Close();
                break;
            default:
                writer.Line($"/// <summary>Layer {layer.Number}, {layer.Title}{stackIndex}{direction}: one step, {cell.InputWidth} inputs -> {hidden} state.</summary>");
                writer.Open($"private static void {cell.Name}_Step({In} x, {Out} h, {Out} work)");
                writer.Line($"// h = {layer.Activation.ToString().ToLowerInvariant()}(W_ih x + W_hh h + b_ih + b_hh)");
                writer.Line($"{Kernels}.MatVec({x}, x, work);");
                writer.Line($"{Kernels}.MatVecAccumulate({h}, h, work);");
                writer.Line($"{Kernels}.Add({b}, work);");
                writer.Line($"{Kernels}.RnnUpdate(work, h, global::StaticRnn.Activation.{layer.Activation});");
                writer.Close();
                break;
        }
    }
}
