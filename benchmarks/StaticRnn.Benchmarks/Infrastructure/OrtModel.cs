using System;
using Microsoft.ML.OnnxRuntime;

namespace StaticRnn.Benchmarks;

/// <summary>
/// ONNX Runtime's fastest path for a small model, as issue 3 specifies: one intra-op and one inter-op thread,
/// sequential execution, all graph optimisations; the input and output are <see cref="OrtValue"/>s created once
/// over pre-allocated managed arrays (pinned for the OrtValue's lifetime) and bound once with an
/// <see cref="OrtIoBinding"/>, so <see cref="Run"/> is a single <c>RunWithBinding</c> call that allocates no
/// tensors and copies nothing in or out.
/// </summary>
public sealed class OrtModel : IDisposable
{
    private readonly SessionOptions _options = CreateOptions();
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OrtIoBinding _binding;
    private readonly OrtValue _input;
    private readonly OrtValue _output;

    private OrtModel(string path, Func<OrtValue> input, float[] output, int batch)
    {
        _session = new InferenceSession(path, _options);
        _input = input();
        _output = OrtValue.CreateTensorValueFromMemory(output, new long[] { batch, output.Length / batch });
        _binding = _session.CreateIoBinding();
        _binding.BindInput("input", _input);
        _binding.BindOutput("output", _output);
    }

    /// <summary>Float input [batch, T, inputSize].</summary>
    public static OrtModel ForFloats(string name, float[] input, int batch, int steps, int inputSize, float[] output) =>
        new(ModelFiles.Onnx(name), () => OrtValue.CreateTensorValueFromMemory(input, new long[] { batch, steps, inputSize }), output, batch);

    /// <summary>Token input, int64 [batch, T].</summary>
    public static OrtModel ForTokens(string name, long[] tokens, int batch, int steps, float[] output) =>
        new(ModelFiles.Onnx(name), () => OrtValue.CreateTensorValueFromMemory(tokens, new long[] { batch, steps }), output, batch);

    public static SessionOptions CreateOptions() => new()
    {
        IntraOpNumThreads = 1,
        InterOpNumThreads = 1,
        ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
    };

    /// <summary>One inference over the bound buffers.</summary>
    public void Run() => _session.RunWithBinding(_runOptions, _binding);

    public void Dispose()
    {
        _binding.Dispose();
        _input.Dispose();
        _output.Dispose();
        _runOptions.Dispose();
        _session.Dispose();
        _options.Dispose();
    }
}
