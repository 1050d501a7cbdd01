using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Security.Cryptography;
using System.Text;
using StaticRnn.Cuda;
using Xunit;

namespace StaticRnn.Tests.Shared;

// Compiled into both test projects (StaticRnn.Tests: the fixture models; StaticRnn.Generators.Tests: the
// differential architectures).

/// <summary>Builds tools/cuda-emulation/runner.cpp with one kernel (cached by the kernel's hash) and runs a launch.</summary>
public static class CudaEmulator
{
    public static string? Clang => s_clang.Value;

    private static readonly Lazy<string?> s_clang = new(() =>
        Environment.GetEnvironmentVariable("PATH")?.Split(Path.PathSeparator)
            .Select(directory => Path.Combine(directory, "clang++")).FirstOrDefault(File.Exists));

    private static string EmulationDirectory
    {
        get
        {
            for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
            {
                var candidate = Path.Combine(directory.FullName, "tools", "cuda-emulation");
                if (File.Exists(Path.Combine(candidate, "runner.cpp")))
                    return candidate;
            }
            throw new DirectoryNotFoundException("tools/cuda-emulation not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Runs the kernel over <paramref name="sequences"/> sequences with <paramref name="stagedFloats"/> floats
    /// of shared memory for recurrent weights (what CudaScorer.StagedFloats gives it on a device), each sequence
    /// <paramref name="lengths"/>[i] steps long (null: all of them full length, a null pointer to the kernel).</summary>
    public static float[] Run(CudaKernelDefinition kernel, float[] weights, int sequences, byte[] inputs, int outputCount, bool tokens,
        int stagedFloats = 0, int[]? lengths = null)
    {
        Assert.True(lengths is null || lengths.Length == sequences, "one length per sequence");
        var runner = Build(kernel, tokens);
        var work = Directory.CreateTempSubdirectory("staticrnn-launch-");
        try
        {
            var launch = Path.Combine(work.FullName, "launch.bin");
            var outputs = Path.Combine(work.FullName, "outputs.bin");
            using (var file = new BinaryWriter(File.Create(launch)))
            {
                foreach (var value in new[] { sequences, kernel.SequencesPerBlock, kernel.ThreadsPerBlock, kernel.SharedMemoryBytes + stagedFloats * 4,
                             kernel.ScratchFloatsPerSequence, weights.Length, inputs.Length / 4, outputCount, stagedFloats, lengths is null ? 0 : 1 })
                    file.Write(value);
                foreach (var weight in weights)
                    file.Write(weight);
                file.Write(inputs);
                foreach (var length in lengths ?? [])
                    file.Write(length);
            }
            var (exit, log) = Execute(runner, [launch, outputs], work.FullName);
            Assert.True(exit == 0, $"the emulated kernel failed (exit {exit}):\n{log}");
            var bytes = File.ReadAllBytes(outputs);
            return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static string Build(CudaKernelDefinition kernel, bool tokens)
    {
        // Keyed by everything that goes into the build, the runner and the emulation layer included.
        var header = File.ReadAllText(Path.Combine(EmulationDirectory, "..", "..", "src", "StaticRnn", "Cuda", "staticrnn.cuh"));
        var emulationSources = File.ReadAllText(Path.Combine(EmulationDirectory, "runner.cpp")) + File.ReadAllText(Path.Combine(EmulationDirectory, "emulation.h"));
        var hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(kernel.Source + header + emulationSources + kernel.EntryPoint + tokens)))[..16];
        var directory = Path.Combine(Path.GetTempPath(), "staticrnn-cuda-emulation", hash);
        var runner = Path.Combine(directory, "runner");
        if (File.Exists(runner))
            return runner;
        Directory.CreateDirectory(directory);
        var source = Path.Combine(directory, "kernel.cu");
        File.WriteAllText(source, kernel.Source);
        var temporary = runner + "." + Environment.ProcessId;
        var emulation = EmulationDirectory;
        string[] arguments =
        [
            "-std=c++20", "-O1", "-pthread", "-Wall", "-Werror", "-Wno-unknown-pragmas",
            "-include", Path.Combine(emulation, "emulation.h"), "-I", Path.Combine(emulation, "..", "..", "src", "StaticRnn", "Cuda"),
            $"-DKERNEL_SOURCE=\"{source}\"", $"-DKERNEL_ENTRY={kernel.EntryPoint}", $"-DKERNEL_INPUT={(tokens ? "int" : "float")}",
            Path.Combine(emulation, "runner.cpp"), "-o", temporary,
        ];
        var (exit, log) = Execute(Clang!, arguments, directory);
        Assert.True(exit == 0, $"clang++ could not compile the kernel ({source}):\n{log}");
        File.Move(temporary, runner, overwrite: true);
        return runner;
    }

    private static (int Exit, string Log) Execute(string program, string[] arguments, string directory)
    {
        var start = new ProcessStartInfo(program, arguments)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            return (-1, "timed out after 5 minutes (a barrier some threads never reach?)\n" + output + error.Result);
        }
        return (process.ExitCode, output + error.Result);
    }
}

/// <summary>A theory that needs clang++ (to build the emulated kernels); skipped, with the reason, where it is missing.
/// CI installs clang first (.ci/run), so there it always runs.</summary>
public sealed class ClangTheoryAttribute : TheoryAttribute
{
    public ClangTheoryAttribute() => Skip = SkipReason;

    /// <summary>Why the emulation cannot run here, or null.</summary>
    public static string? SkipReason =>
        !OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() ? "the CUDA emulation runs on Linux and macOS only"
        : CudaEmulator.Clang is null ? "clang++ not found on PATH: install clang to run the CUDA kernels on the CPU (apt-get install clang)"
        : null;
}

/// <summary>A fact that needs clang++; skipped, with the reason, where it is missing (see <see cref="ClangTheoryAttribute"/>).</summary>
public sealed class ClangFactAttribute : FactAttribute
{
    public ClangFactAttribute() => Skip = ClangTheoryAttribute.SkipReason;
}
