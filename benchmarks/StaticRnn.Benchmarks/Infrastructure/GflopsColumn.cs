using System;
using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace StaticRnn.Benchmarks;

/// <summary>Flops of one operation of this benchmark method (overrides the class's FlopsPerOperation).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class FlopsPerOperationAttribute(long flops) : Attribute
{
    public long Flops { get; } = flops;
}

/// <summary>Where the flops of one operation come from: the method's <see cref="FlopsPerOperationAttribute"/>, else a
/// public static <c>FlopsPerOperation</c> property of the benchmark class (or its base classes).</summary>
public static class FlopCount
{
    public static long? Of(Type type, MethodInfo method)
    {
        if (method.GetCustomAttribute<FlopsPerOperationAttribute>() is { } attribute)
            return attribute.Flops;
        var property = type.GetProperty("FlopsPerOperation", BindingFlags.Public | BindingFlags.Static | BindingFlags.FlattenHierarchy);
        return property?.GetValue(null) is long flops ? flops : null;
    }
}

/// <summary>GFLOP/s = flops per operation / mean ns per operation (one operation: one sequence, one step, or one FMA).</summary>
public sealed class GflopsColumn : IColumn
{
    public string Id => nameof(GflopsColumn);
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Flops per operation / mean time per operation (a multiply-add is 2 flops; see benchmarks/README.md)";

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public bool IsAvailable(Summary summary) => true;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, summary.Style);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var flops = FlopCount.Of(benchmarkCase.Descriptor.Type, benchmarkCase.Descriptor.WorkloadMethod);
        var mean = summary[benchmarkCase]?.ResultStatistics?.Mean; // ns per operation
        if (flops is null || mean is null or <= 0)
            return "-";
        return (flops.Value / mean.Value).ToString("0.00", CultureInfo.InvariantCulture);
    }

    public override string ToString() => ColumnName;
}
