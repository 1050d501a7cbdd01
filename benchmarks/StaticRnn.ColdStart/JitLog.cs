using System;
using System.Collections.Generic;
using System.Diagnostics.Tracing;
using System.Linq;

namespace StaticRnn.ColdStart;

/// <summary>The JIT's time per method, from the runtime's own events (MethodJittingStarted to MethodLoadVerbose on
/// the same thread), for <c>--child ... --jit</c>: which methods a first call compiles and what each costs.</summary>
internal sealed class JitLog : EventListener
{
    private readonly Dictionary<ulong, (DateTime Start, string Name)> _started = new();
    private readonly List<(string Name, double Ms, string Tier)> _compiled = new();
    private readonly object _gate = new();
    public bool Recording { get; set; }

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime")
            EnableEvents(source, EventLevel.Verbose, (EventKeywords)0x10);   // JIT keyword
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!Recording || e.Payload is null)
            return;
        lock (_gate)
        {
            if (e.EventName == "MethodJittingStarted_V1")
            {
                var id = Convert.ToUInt64(e.Payload[0]);
                _started[id] = (e.TimeStamp, $"{e.Payload[4]}.{e.Payload[5]}");
            }
            else if (e.EventName == "MethodLoadVerbose_V1" || e.EventName == "MethodLoadVerbose_V2")
            {
                var id = Convert.ToUInt64(e.Payload[0]);
                if (_started.Remove(id, out var start))
                {
                    var flags = Convert.ToUInt32(e.Payload[5]);
                    // MethodFlags bits 7-9: the optimization tier (1 minopts, 2 optimized, 3 quick jitted, 4 tier1, ...).
                    var tier = ((flags >> 7) & 7) switch { 1 => "MinOpts", 2 => "FullOpts", 3 => "Tier0", 4 => "Tier1", 5 => "OSR", 6 => "Tier0 instr", _ => "?" };
                    _compiled.Add((start.Name, (e.TimeStamp - start.Start).TotalMilliseconds, tier));
                }
            }
        }
    }

    public void Print()
    {
        lock (_gate)
        {
            foreach (var (name, ms, tier) in _compiled.OrderByDescending(c => c.Ms))
                Console.Error.WriteLine($"  {ms,7:F2} ms  {tier,-11} {name}");
            Console.Error.WriteLine($"  {_compiled.Sum(c => c.Ms),7:F2} ms  in {_compiled.Count} methods");
        }
    }
}
