using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(Gatehouse.Bench.ParserBenchmarks).Assembly).Run(args);
