using System.Linq;
using StaticRnn.Generators.Weights;
using Xunit;

namespace StaticRnn.Generators.Tests.Weights;

public class WeightFileReaderTests
{
    private static WeightFile ReadValid(byte[] bytes, string path)
    {
        WeightFile? file = WeightFileReader.Read(bytes, path, out WeightFileError? error);
        Assert.True(error is null, error?.ToString());
        return file!;
    }

    [Theory]
    [InlineData("m.safetensors")]
    [InlineData("models/M.SafeTensors")]
    public void SafeTensors_ByExtension(string path)
    {
        byte[] bytes = new SafeTensorsBuilder().AddF32("a.weight", new long[] { 2 }, 1f, 2f).AddF32("b", new long[] { 1 }, 3f).Build();
        WeightFile file = ReadValid(bytes, path);
        Assert.Equal(new[] { "a.weight", "b" }, file.Tensors.Select(t => t.Name).ToArray());

        // Safetensors data always lies in the file verbatim.
        Assert.All(file.Tensors, t => Assert.Equal(t.DataOffset, t.FileOffset));
        NpzReaderTests.AssertFileOffsetsHonest(bytes, file);
    }

    [Theory]
    [InlineData("kernel.npy", "kernel")]
    [InlineData("models/sub/lstm.kernel.npy", "lstm.kernel")]
    [InlineData("C:\\models\\w.NPY", "w")]
    [InlineData("/abs/path/dense_1:0.Npy", "dense_1:0")]
    [InlineData(".npy", "")]
    public void Npy_NamedAfterTheFile(string path, string name)
    {
        WeightFile file = ReadValid(NpyBuilder.F32("(2,)", 1f, 2f), path);
        Assert.Equal(name, Assert.Single(file.Tensors).Name);
    }

    [Fact]
    public void Npz_ByExtension()
    {
        WeightFile file = ReadValid(NumPyFiles.Read("keras_deflated.npz"), "weights/model.NPZ");
        Assert.Equal(4, file.Tensors.Count);
    }

    [Fact]
    public void TheReaderFollowsTheExtension_NotTheContent()
    {
        WeightFile? file = WeightFileReader.Read(NpyBuilder.F32("(2,)", 1f, 2f), "w.npz", out WeightFileError? error);
        Assert.Null(file);
        Assert.Equal(WeightFileErrorKind.InvalidArchive, error!.Kind);

        WeightFileReader.Read(NumPyFiles.Read("little_endian.npz"), "w.safetensors", out error);
        Assert.Equal(WeightFileErrorKind.HeaderLength, error!.Kind);
    }

    [Theory]
    [InlineData("weights.bin", "the file name 'weights.bin' has the extension '.bin'; expected .safetensors, .npy or .npz")]
    [InlineData("models/weights", "the file name 'weights' has no extension; expected .safetensors, .npy or .npz")]
    [InlineData("w.npy.bak", "the file name 'w.npy.bak' has the extension '.bak'; expected .safetensors, .npy or .npz")]
    [InlineData("", "the file name '' has no extension; expected .safetensors, .npy or .npz")]
    [InlineData("dir.npy/weights", "the file name 'weights' has no extension; expected .safetensors, .npy or .npz")]
    public void UnknownExtension(string path, string message)
    {
        Assert.Null(WeightFileReader.Read(new byte[64], path, out WeightFileError? error));
        Assert.Equal(WeightFileErrorKind.UnsupportedFormat, error!.Kind);
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void NullPath_IsAnErrorNotAnException()
    {
        Assert.Null(WeightFileReader.Read(new byte[64], null!, out WeightFileError? error));
        Assert.Equal(WeightFileErrorKind.UnsupportedFormat, error!.Kind);
    }

    [Fact]
    public void TheSourceFindsEveryFormat()
    {
        Assert.Equal(new[] { ".safetensors", ".npy", ".npz", ".onnx" }, WeightFileSource.Extensions.ToArray());
    }
}
