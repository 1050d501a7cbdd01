using System;
using System.Linq;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Perfolizer.Horology;
using StaticRnn.Benchmarks;

// dotnet run -c Release --project benchmarks/StaticRnn.Benchmarks -- --filter '*'          BenchmarkDotNet, every class
// dotnet run -c Release --project benchmarks/StaticRnn.Benchmarks -- --smoke [class-filter] quick check without BenchmarkDotNet
if (args.Length > 0 && args[0] == "--smoke")
    return Smoke.Run(args.Length > 1 ? args[1] : null);

var config = DefaultConfig.Instance
    .AddDiagnoser(MemoryDiagnoser.Default)
    .AddColumn(CategoriesColumn.Default, new GflopsColumn())
    .AddLogicalGroupRules(BenchmarkLogicalGroupRule.ByCategory)
    .WithSummaryStyle(SummaryStyle.Default.WithTimeUnit(TimeUnit.Nanosecond))
    .WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared))
    .WithOptions(ConfigOptions.JoinSummary);

var summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);
return summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success)) ? 1 : 0;
