using System;
using System.Diagnostics;
using System.Globalization;
using System.Linq;
using System.Text.Json;
using CharRnn;
using StaticRnn;

// The lecture notes' character-level text generation: feed a prompt through the LSTM one character at a time,
// then sample each next character from the model's output and feed it back.
//
//   dotnet run -c Release --project samples/CharRnn -- [--prompt TEXT] [--length N] [--temperature T] [--seed S]
//
// First it checks that Step reproduces PyTorch's logits (exit code 1 if not); then it generates with
// Sampling.SampleWithTemperature and a seeded Pcg32 (the same text for the same seed on every machine), into a
// preallocated buffer, and reports the characters per second and the bytes allocated while generating (0).
//
// The model (models/char_lstm.safetensors and models/char_lstm.json, made by tools/make_charrnn.py) was trained on
// 1.86 million characters of the World English Bible, 2020 stable text edition: the SWORD module engWEB2015eb,
// version 426.0, from Debian's package sword-text-web 426.0-1 (read with diatheke). The World English Bible is in
// the public domain worldwide; "World English Bible" is a trademark of eBible.org, and the text this program
// writes is not the World English Bible.

var prompt = "Then Jesus said to his disciples, “";
var length = 600;
var temperature = 0.7f;
var seed = 42UL;
for (var i = 0; i < args.Length; i++)
{
    string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
    switch (args[i])
    {
        case "--prompt" or "-p": prompt = Value(); break;
        case "--length" or "-n": length = int.Parse(Value(), CultureInfo.InvariantCulture); break;
        case "--temperature" or "-t": temperature = float.Parse(Value(), CultureInfo.InvariantCulture); break;
        case "--seed" or "-s": seed = ulong.Parse(Value(), CultureInfo.InvariantCulture); break;
        default:
            Console.WriteLine("usage: CharRnn [--prompt TEXT] [--length N] [--temperature T (0 = greedy)] [--seed S]");
            return args[i] is "--help" or "-h" ? 0 : 2;
    }
}
if (length < 0 || !(temperature >= 0f && float.IsFinite(temperature)))
{
    Console.Error.WriteLine("--length must be ≥ 0 and --temperature ≥ 0 (0 picks the most likely character).");
    return 2;
}

// The vocabulary and PyTorch's logits for a fixed prompt, written by tools/make_charrnn.py with the weights.
using var json = JsonDocument.Parse(typeof(CharLstm).Assembly.GetManifestResourceStream("char_lstm.json")!);
var root = json.RootElement;
var vocabulary = root.GetProperty("vocabulary").GetString()!;   // token i is vocabulary[i]
if (vocabulary.Length != CharLstm.VocabularySize || CharLstm.StepOutputSize != CharLstm.VocabularySize)
{
    Console.Error.WriteLine($"char_lstm.json has {vocabulary.Length} characters; the model {CharLstm.VocabularySize}.");
    return 1;
}
var source = root.GetProperty("source");
var training = root.GetProperty("training");
Console.WriteLine($"CharLstm: Embedding({CharLstm.VocabularySize}, 32) → LSTM(256) → Dense({CharLstm.VocabularySize}), compiled by StaticRnn");
Console.WriteLine($"trained on {source.GetProperty("characters").GetInt32():N0} characters of the {source.GetProperty("title").GetString()}, " +
                  $"{source.GetProperty("licence").GetString()!.Split(';')[0]} (Debian sword-text-web {source.GetProperty("debianPackageVersion").GetString()}); " +
                  $"validation loss {training.GetProperty("validationLoss").GetDouble():F3} nats/char");
Console.WriteLine();

// 1. Step must reproduce PyTorch's logits after every character of the check prompt, from the zero state.
var checkPrompt = root.GetProperty("checkPrompt").GetString()!;
var checkTokens = root.GetProperty("checkTokens").EnumerateArray().Select(v => v.GetInt32()).ToArray();
if (!checkTokens.SequenceEqual(checkPrompt.Select(c => vocabulary.IndexOf(c))))
{
    Console.Error.WriteLine("char_lstm.json's checkTokens do not spell its checkPrompt in its vocabulary.");
    return 1;
}
var checkLogits = root.GetProperty("checkLogits").EnumerateArray().Select(row => row.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
if (checkLogits.Length != checkPrompt.Length || checkLogits.Any(row => row.Length != CharLstm.StepOutputSize))
{
    Console.Error.WriteLine($"char_lstm.json's checkLogits must hold {checkPrompt.Length} rows of {CharLstm.StepOutputSize} logits.");
    return 1;
}
var logits = new float[CharLstm.StepOutputSize];
var state = default(CharLstm.State);
var worst = 0f;
for (var t = 0; t < checkPrompt.Length; t++)
{
    CharLstm.Step(ref state, checkTokens[t], logits);
    for (var j = 0; j < logits.Length; j++)
        worst = MathF.Max(worst, MathF.Abs(logits[j] - checkLogits[t][j]));
}
Console.WriteLine($"check: Step vs PyTorch over \"{checkPrompt}\" ({checkPrompt.Length} steps): max |difference| {worst:E2}");
if (!(worst <= 1e-4f))
{
    Console.Error.WriteLine($"StaticRnn and PyTorch differ by {worst:E2}; expected at most 1e-4.");
    return 1;
}

// 2. Generate. The prompt sets the state; then each character is drawn from softmax(logits / T) and fed back.
var promptTokens = new int[prompt.Length];
for (var i = 0; i < prompt.Length; i++)
{
    promptTokens[i] = vocabulary.IndexOf(prompt[i]);
    if (promptTokens[i] < 0)
    {
        Console.Error.WriteLine($"The prompt's character {prompt[i]} (U+{(int)prompt[i]:X4}) is not in the vocabulary: {vocabulary.Replace("\n", "\\n")}");
        return 2;
    }
}
if (promptTokens.Length == 0)
    promptTokens = [vocabulary.IndexOf('\n')];   // an empty prompt: start as at a new line

state = default;
foreach (var token in promptTokens)
    CharLstm.Step(ref state, token, logits);

var output = new char[length];
var probabilities = new float[CharLstm.StepOutputSize];
var random = new Pcg32(seed);

// Warm up on copies for a third of a second, so that the JIT has compiled Step and the sampling at their final tier
// and the run below is measured as it will run; the copies leave the state and the generator as they were.
var warmLogits = new float[CharLstm.StepOutputSize];
var warmUp = Stopwatch.StartNew();
while (length > 0 && warmUp.ElapsedMilliseconds < 300)
{
    var warmState = state;
    var warmRandom = random;
    logits.CopyTo(warmLogits, 0);
    Generate(ref warmState, ref warmRandom, warmLogits, probabilities, output.AsSpan(0, Math.Min(length, 200)), vocabulary, temperature);
}

var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
var started = Stopwatch.GetTimestamp();
Generate(ref state, ref random, logits, probabilities, output, vocabulary, temperature);
var elapsed = Stopwatch.GetElapsedTime(started);
var allocated = GC.GetAllocatedBytesForCurrentThread() - allocatedBefore;

Console.WriteLine($"generated (temperature {temperature.ToString(CultureInfo.InvariantCulture)}{(temperature == 0f ? ", greedy" : "")}, seed {seed}):");
Console.WriteLine();
Console.Out.Write(prompt);
Console.Out.Write(output);
Console.WriteLine();
Console.WriteLine();
Console.WriteLine($"{length:N0} characters in {elapsed.TotalMilliseconds:F1} ms: {length / elapsed.TotalSeconds:N0} characters/s " +
                  $"({elapsed.TotalNanoseconds / Math.Max(length, 1) / 1000:F1} µs each), {allocated} bytes allocated while generating");
// Any allocation per character would cost at least one object (24 bytes) per character; fewer bytes than characters
// in all can only be a one-off of the runtime's (GetAllocatedBytesForCurrentThread occasionally reports a few
// kilobytes nobody allocated: dotnet/runtime#63487).
if (allocated >= Math.Max(length, 1))
{
    Console.Error.WriteLine($"Generating allocated {allocated} bytes for {length} characters; expected none per character.");
    return 1;
}
return 0;

// One character per iteration: draw from the current logits, store it, feed it back. Nothing here allocates.
static void Generate(ref CharLstm.State state, ref Pcg32 random, Span<float> logits, Span<float> probabilities,
                     Span<char> output, string vocabulary, float temperature)
{
    for (var i = 0; i < output.Length; i++)
    {
        var token = temperature == 0f
            ? Sampling.ArgMax(logits)
            : Sampling.SampleWithTemperature(logits, temperature, probabilities, ref random);
        output[i] = vocabulary[token];
        CharLstm.Step(ref state, token, logits);
    }
}
