using System;
using System.Collections;
using System.IO;
using System.Linq;
using System.Reflection;
using SharpFuzz;

// Fuzzes one weight-file reader of the generator under AFL++ (tools/fuzz.sh):
//   dotnet StaticRnn.Fuzz.dll safetensors|npy|npz|onnx            reads inputs from AFL++ (instrumented run)
//   dotnet StaticRnn.Fuzz.dll safetensors|npy|npz|onnx FILE...    runs files once each (reproducing a finding)
// Each input is parsed, and every tensor of a file that parses is converted to float32. An .onnx file that parses
// goes on through the importer, as the generator takes it (OnnxFrontEnd): the graph evaluated into layers and
// PyTorch-named tensors, or an error. A reader or importer that throws, or allocates more than the input can
// justify, is a finding: the exception reaches AFL++ as a crash.
if (args.Length == 0 || args[0] is not ("safetensors" or "npy" or "npz" or "onnx"))
{
    Console.Error.WriteLine("usage: StaticRnn.Fuzz safetensors|npy|npz|onnx [FILE...]");
    return 2;
}

var format = args[0];
var path = "input." + format;
// A deflated .npz member may expand up to 1,032 times (deflate's limit, which the reader enforces). An ONNX file is
// read into objects (a node of a few bytes takes a few hundred), and the importer may build 16 MiB and 32 bytes per
// byte of the file (its budget, OnnxImporter.BuildPerFileByte) besides its own bookkeeping per node: 256 times
// catches what grows faster than the file. Nothing else may allocate more than a few times its input.
var expansion = format switch { "npz" => 1040L, "onnx" => 256L, _ => 8L };
// The importer's allowance (16 MiB, whatever the file's size) and the objects that hold it.
var slack = format == "onnx" ? 64L << 20 : 1L << 20;
// By name: the readers are internal, and the fuzzer needs nothing of the generator's Roslyn side but the types the
// importer's diagnostics name.
var generators = Assembly.Load(new AssemblyName("StaticRnn.Generators"));
var read = generators.GetType("StaticRnn.Generators.Weights.WeightFileReader", throwOnError: true)!
    .GetMethod("Read", BindingFlags.Public | BindingFlags.Static)!;
var weightFile = generators.GetType("StaticRnn.Generators.Weights.WeightFile", throwOnError: true)!;
var tensors = weightFile.GetProperty("Tensors")!;
var readFloat32 = weightFile.GetMethod("ReadFloat32")!;
var onnxRead = generators.GetType("StaticRnn.Generators.Weights.OnnxReader", throwOnError: true)!
    .GetMethod("Read", BindingFlags.Public | BindingFlags.Static)!;
var importer = generators.GetType("StaticRnn.Generators.Model.OnnxImporter", throwOnError: true)!;
var import = importer.GetMethod("Read", BindingFlags.Public | BindingFlags.Static)!;
var importWeights = importer.GetNestedType("Import", BindingFlags.Public | BindingFlags.NonPublic)!.GetProperty("Weights")!;
var diagnosticList = typeof(System.Collections.Generic.List<>)
    .MakeGenericType(generators.GetType("StaticRnn.Generators.Diagnostics.DiagnosticInfo", throwOnError: true)!);

// The file's tensors, or null after an error (the reader's, or the importer's diagnostics).
object? ReadFile(byte[] bytes, out string? error)
{
    if (format != "onnx")
    {
        object?[] arguments = [bytes, path, null];
        var file = read.Invoke(null, arguments);
        error = arguments[2] is { } e ? Message(e) : null;
        return file;
    }
    object?[] onnxArguments = [bytes, null];
    var model = onnxRead.Invoke(null, onnxArguments);
    if (model is null)
    {
        error = onnxArguments[1] is { } e ? Message(e) : null;
        return null;
    }
    var diagnostics = (IList)Activator.CreateInstance(diagnosticList)!;
    // External data: the input itself stands for every file beside the model, so offsets and lengths are checked too.
    Func<string, byte[]?> externalFiles = _ => bytes;
    var result = import.Invoke(null, [model, path, null, diagnostics, externalFiles]);
    error = diagnostics.Count > 0 ? string.Join("; ", diagnostics.Cast<object>().Select(Message)) : null;
    return result is null ? null : importWeights.GetValue(result);
}

// A WeightFileError's message, or a diagnostic's id and arguments.
static string Message(object error)
{
    var type = error.GetType();
    if (type.GetProperty("Message") is { } message)
        return (string)message.GetValue(error)!;
    var arguments = (IEnumerable)type.GetProperty("Arguments")!.GetValue(error)!;
    return $"{type.GetProperty("Id")!.GetValue(error)}: {string.Join(", ", arguments.Cast<object>())}";
}

// What became of the input: "accepted" or the error.
string Check(byte[] bytes)
{
    var before = GC.GetAllocatedBytesForCurrentThread();
    object? file;
    string? error;
    try
    {
        file = ReadFile(bytes, out error);
        if (file is not null)
        {
            foreach (var tensor in (IEnumerable)tensors.GetValue(file)!)
                readFloat32.Invoke(file, [tensor]);
        }
    }
    catch (TargetInvocationException e) when (e.InnerException is not null)
    {
        // Rethrown unwrapped, so AFL++ and the reproduction runs see the reader's own exception.
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
        throw;
    }
    if (file is null && error is null)
        throw new InvalidOperationException("The reader returned neither a file nor an error.");
    var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
    // The converted float32 copies of the tensors count too: at most 4 bytes per element, 2 elements per byte (F16).
    var limit = (expansion + 8) * bytes.Length + slack;
    if (allocated > limit)
        throw new InvalidOperationException($"{allocated} bytes allocated for a {bytes.Length}-byte input (limit {limit}).");
    return file is not null ? "accepted" : $"rejected: {error}";
}

if (args.Length > 1)
{
    foreach (var file in args[1..])
    {
        var outcome = Check(File.ReadAllBytes(file));
        Console.WriteLine($"ok  {file}: {outcome}");
    }
    return 0;
}

Fuzzer.OutOfProcess.Run(stream =>
{
    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    Check(memory.ToArray());
});
return 0;
