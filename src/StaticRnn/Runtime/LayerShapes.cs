using System.ComponentModel;

namespace StaticRnn.Runtime;

/// <summary>
/// The shape of a matrix product y = b + x · W, x [rows][<see cref="Inputs"/>], W [<see cref="Inputs"/>][<see cref="Columns"/>],
/// as constants. Generated code declares one struct per layer that implements it and passes it as a type argument:
/// the JIT compiles the kernels once per struct, with every size a constant (loop bounds, strides, which loops exist).
/// </summary>
/// <remarks>Public only so generated code in user assemblies can implement it; not a supported API.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IProjection
{
    /// <summary>Values per input row.</summary>
    static abstract int Inputs { get; }

    /// <summary>Values per output row: a dense layer's units or a recurrent layer's G × padded hidden gate columns,
    /// padded to whole blocks (<see cref="WeightPacking.Padded"/>).</summary>
    static abstract int Columns { get; }
}

/// <summary>One recurrent layer (one level of a stack): its cell and sizes, as constants (see <see cref="IProjection"/>,
/// which describes its input projection).</summary>
/// <remarks>Public only so generated code in user assemblies can implement it; not a supported API.</remarks>
[EditorBrowsable(EditorBrowsableState.Never)]
public interface IRecurrentLayer : IProjection
{
    /// <summary>The cell the kernels run.</summary>
    static abstract RecurrentCell Cell { get; }

    /// <summary>The Elman cell's activation (ignored by the others).</summary>
    static abstract Activation Activation { get; }

    /// <summary>Units of the hidden state.</summary>
    static abstract int Hidden { get; }
}
