using System;

namespace StaticRnn.Tests;

/// <summary>Measures whether a call allocates, robustly.</summary>
/// <remarks><see cref="GC.GetAllocatedBytesForCurrentThread"/> occasionally reports a few kilobytes that no code on
/// the thread allocated (the runtime's own test of it is flaky for that reason: dotnet/runtime#13502, #63487,
/// #74388; we saw 7,656 phantom bytes once in CI). A call that allocates does so in every window of calls, so the
/// fewest bytes over several windows is what the calls allocate; a one-off phantom shows in one window only.</remarks>
internal static class Allocations
{
    /// <summary>The fewest bytes allocated over <paramref name="windows"/> windows of <paramref name="calls"/> calls.</summary>
    public static long Fewest(Action call, int calls = 1000, int windows = 3)
    {
        var fewest = long.MaxValue;
        for (var w = 0; w < windows; w++)
        {
            var before = GC.GetAllocatedBytesForCurrentThread();
            for (var i = 0; i < calls; i++)
                call();
            fewest = Math.Min(fewest, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        return fewest;
    }
}
