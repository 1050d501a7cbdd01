using System;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.Json;
using Translator;

// Translates dates with the compiled encoder-decoder, checks the translations against PyTorch's (greedy decoding of
// the float64 model, in models/dates.json), checks that translating allocates nothing, and draws the attention of one
// translation as the lecture notes' alignment figure. Usage: Translator [date ...] [--plot <file.png>]
// Exits with 1 if a translation differs from PyTorch's or translating allocates.

using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("dates.json")
    ?? throw new InvalidDataException("The embedded dates.json is missing.");
using var json = JsonDocument.Parse(stream);
var root = json.RootElement;
var vocabulary = new Vocabulary(
    root.GetProperty("source_vocabulary").EnumerateArray().Select(e => e.GetString()!).ToArray(),
    root.GetProperty("target_vocabulary").EnumerateArray().Select(e => e.GetString()!).ToArray());

var plotPath = Path.Combine(ProjectDirectory() ?? AppContext.BaseDirectory, "alignment.png");
var dates = args.ToList();
var plotAt = dates.IndexOf("--plot");
if (plotAt >= 0)
{
    plotPath = dates[plotAt + 1];
    dates.RemoveRange(plotAt, 2);
}

DateDecoder.Warmup();
var target = new int[DateDecoder.MaxLength];
var failures = 0;

Console.WriteLine("PyTorch's translations (greedy, float64) and StaticRnn's:");
foreach (var example in root.GetProperty("examples").EnumerateArray())
{
    var text = example.GetProperty("text").GetString()!;
    var expected = example.GetProperty("greedy").EnumerateArray().Select(e => e.GetInt32()).ToArray();
    var written = DateDecoder.Translate(vocabulary.Encode(text), target);
    var same = target.AsSpan(0, written).SequenceEqual(expected);
    failures += same ? 0 : 1;
    Console.WriteLine($"  {text,-32} -> {vocabulary.Decode(target.AsSpan(0, written)),-12} {(same ? "same as PyTorch" : "DIFFERS from PyTorch: " + vocabulary.Decode(expected))}");
}

foreach (var date in dates)
{
    var written = DateDecoder.Translate(vocabulary.Encode(date), target);
    var beam = DateDecoder.Translate(vocabulary.Encode(date), target.AsSpan(), beamWidth: 4);
    Console.WriteLine($"  {date,-32} -> {vocabulary.Decode(target.AsSpan(0, beam))} (beam 4; greedy wrote {written} tokens)");
}

// Zero allocation per translation after the first (greedy, with attention, beam search).
var source = vocabulary.Encode("saturday 17 june 1989");
var attention = new float[DateDecoder.MaxLength * DateDecoder.SourceLength];
DateDecoder.Translate(source, target, beamWidth: 4);
var before = GC.GetAllocatedBytesForCurrentThread();
for (var i = 0; i < 100; i++)
{
    DateDecoder.Translate(source, target);
    DateDecoder.Translate(source, target, attention);
    DateDecoder.Translate(source, target, beamWidth: 4);
}
var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
Console.WriteLine($"300 translations allocated {allocated} bytes");
failures += allocated == 0 ? 0 : 1;

// The alignment figure: which source characters each output character attended to.
var steps = DateDecoder.Translate(source, target, attention);
AlignmentPlot.Write(plotPath, "saturday 17 june 1989", vocabulary, target.AsSpan(0, steps).ToArray(), attention, steps);
Console.WriteLine($"Attention of 'saturday 17 june 1989' -> {vocabulary.Decode(target.AsSpan(0, steps))}: {plotPath}");

return failures == 0 ? 0 : 1;

static string? ProjectDirectory() =>
    Assembly.GetExecutingAssembly().GetCustomAttributes<AssemblyMetadataAttribute>()
        .FirstOrDefault(a => a.Key == "Translator.ProjectDirectory")?.Value is { } directory && Directory.Exists(directory) ? directory : null;
