using System;
using System.IO;
using System.Reflection;
using SharpFuzz;

// Fuzzes one weight-file reader of the generator under AFL++ (tools/fuzz.sh):
//   dotnet StaticRnn.Fuzz.dll safetensors|npy|npz            reads inputs from AFL++ (instrumented run)
//   dotnet StaticRnn.Fuzz.dll safetensors|npy|npz FILE...    runs files once each (reproducing a finding)
// Each input is parsed, and every tensor of a file that parses is converted to float32. A reader that throws,
// or allocates more than the input can justify, is a finding: the exception reaches AFL++ as a crash.
if (args.Length == 0 || args[0] is not ("safetensors" or "npy" or "npz"))
{
    Console.Error.WriteLine("usage: StaticRnn.Fuzz safetensors|npy|npz [FILE...]");
    return 2;
}

var path = "input." + args[0];
// A deflated .npz member may expand up to 1,032 times (deflate's limit, which the reader enforces); nothing
// else may allocate more than a few times its input.
var expansion = args[0] == "npz" ? 1040L : 8L;
// By name: the readers need nothing of Roslyn, which the generator's own types would pull in.
var generators = Assembly.Load(new AssemblyName("StaticRnn.Generators"));
var read = generators.GetType("StaticRnn.Generators.Weights.WeightFileReader", throwOnError: true)!
    .GetMethod("Read", BindingFlags.Public | BindingFlags.Static)!;
var weightFile = generators.GetType("StaticRnn.Generators.Weights.WeightFile", throwOnError: true)!;
var tensors = weightFile.GetProperty("Tensors")!;
var readFloat32 = weightFile.GetMethod("ReadFloat32")!;

void Check(byte[] bytes)
{
    var before = GC.GetAllocatedBytesForCurrentThread();
    object?[] arguments = [bytes, path, null];
    object? file;
    try
    {
        file = read.Invoke(null, arguments);
        if (file is not null)
        {
            foreach (var tensor in (System.Collections.IEnumerable)tensors.GetValue(file)!)
                readFloat32.Invoke(file, [tensor]);
        }
    }
    catch (TargetInvocationException e) when (e.InnerException is not null)
    {
        // Rethrown unwrapped, so AFL++ and the reproduction runs see the reader's own exception.
        System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerException).Throw();
        throw;
    }
    if (file is null && arguments[2] is null)
        throw new InvalidOperationException("The reader returned neither a file nor an error.");
    var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
    // The converted float32 copies of the tensors count too: at most 4 bytes per element, 2 elements per byte (F16).
    var limit = (expansion + 8) * bytes.Length + (1 << 20);
    if (allocated > limit)
        throw new InvalidOperationException($"{allocated} bytes allocated for a {bytes.Length}-byte input (limit {limit}).");
}

if (args.Length > 1)
{
    foreach (var file in args[1..])
    {
        Check(File.ReadAllBytes(file));
        Console.WriteLine($"ok  {file}");
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
