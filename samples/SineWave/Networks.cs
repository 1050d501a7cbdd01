using System;

namespace SineWave;

/// <summary>A generated model's <c>Predict</c> or <c>PredictBatch</c>.</summary>
internal delegate void Forward(ReadOnlySpan<float> input, Span<float> output);

/// <summary>One of the sample's models: its generated class, what it is, and how many parameters Keras would count
/// (one bias per gate; PyTorch's nn.RNN and nn.LSTM carry a second, redundant one).</summary>
internal sealed record Network(
    string ClassName, string Architecture, bool TrainedOnNoise, int CellParameters, int HeadParameters,
    Forward Predict, Forward PredictBatch)
{
    public int Parameters => CellParameters + HeadParameters;

    /// <summary>"80 + 900": the recurrent layer's and the Dense layer's parameters, as the lecture notes list them.</summary>
    public string ParameterText => HeadParameters == 0 ? $"{Parameters:N0}" : $"{CellParameters:N0} + {HeadParameters:N0}";

    /// <summary>The models, trained on clean waves and then on noisy ones, in the order of the tables.</summary>
    public static readonly Network[] All =
    [
        Mlp(nameof(SineMlp), false, SineMlp.Predict, SineMlp.PredictBatch),
        Recurrent(nameof(SineRnn), "RNN", gates: 1, hidden: 8, false, SineRnn.Predict, SineRnn.PredictBatch),
        Recurrent(nameof(SineLstm), "LSTM", gates: 4, hidden: 8, false, SineLstm.Predict, SineLstm.PredictBatch),
        Recurrent(nameof(SineGru), "GRU", gates: 3, hidden: 8, false, SineGru.Predict, SineGru.PredictBatch),
        Recurrent(nameof(SineGru64), "GRU", gates: 3, hidden: 64, false, SineGru64.Predict, SineGru64.PredictBatch),
        Mlp(nameof(SineMlpNoisy), true, SineMlpNoisy.Predict, SineMlpNoisy.PredictBatch),
        Recurrent(nameof(SineRnnNoisy), "RNN", gates: 1, hidden: 8, true, SineRnnNoisy.Predict, SineRnnNoisy.PredictBatch),
        Recurrent(nameof(SineLstmNoisy), "LSTM", gates: 4, hidden: 8, true, SineLstmNoisy.Predict, SineLstmNoisy.PredictBatch),
        Recurrent(nameof(SineGruNoisy), "GRU", gates: 3, hidden: 8, true, SineGruNoisy.Predict, SineGruNoisy.PredictBatch),
        Recurrent(nameof(SineGru64Noisy), "GRU", gates: 3, hidden: 64, true, SineGru64Noisy.Predict, SineGru64Noisy.PredictBatch),
    ];

    /// <summary><see cref="SineLstm"/>'s network from its weights in Keras layout (models/sine_lstm_keras.npz, made by
    /// tools/make_keras_sine_model.py from the PyTorch file): checked against PyTorch's predictions of SineLstm, not in
    /// the tables, timings or plots.</summary>
    public static readonly Network LstmKerasLayout =
        Recurrent(nameof(SineLstmKeras), "LSTM", gates: 4, hidden: 8, false, SineLstmKeras.Predict, SineLstmKeras.PredictBatch);

    /// <summary>Dense(100, tanh) and Dense(100) over the 100 samples: 2 × (100 × 100 + 100) = 20,200.</summary>
    private static Network Mlp(string className, bool noisy, Forward predict, Forward predictBatch) =>
        new(className, "MLP 100×100", noisy, 2 * (100 * 100 + 100), 0, predict, predictBatch);

    /// <summary>A cell of <paramref name="gates"/> gates over one input, then Dense(100):
    /// gates × hidden × (1 + hidden + 1), and hidden × 100 + 100.</summary>
    private static Network Recurrent(string className, string cell, int gates, int hidden, bool noisy, Forward predict, Forward predictBatch) =>
        new(className, $"{cell} {hidden}", noisy, gates * hidden * (1 + hidden + 1), hidden * 100 + 100, predict, predictBatch);
}
