using BenchmarkDotNet.Running;
using Gatehouse.Bench.Allocation;

if (args is ["--allocations", ..] && args.Skip(1).All(arg => arg == "--by-type"))
{
    return await AllocationProbe.RunAsync(byType: args.Contains("--by-type"));
}

BenchmarkSwitcher.FromAssembly(typeof(Gatehouse.Bench.ParserBenchmarks).Assembly).Run(args);
return 0;
