using SharpFuzz;

namespace Gatehouse.Fuzz;

/// <summary>
/// Fuzz targets for the HTTP/1.1 parser, driven by AFL++ through SharpFuzz (fuzz/run.sh), or
/// replayed and minimized here without AFL:
///   Gatehouse.Fuzz TARGET                      run under afl-fuzz (stdin / forkserver)
///   Gatehouse.Fuzz TARGET --replay PATH...     run files (or every file in folders); exit 1 on any failure
///   Gatehouse.Fuzz TARGET --minimize IN OUT    shrink a failing input while it still fails the same way
///   Gatehouse.Fuzz corpus SHARED_CORPORA OUT   write the seed corpora (OUT/head, OUT/target, OUT/chunk, OUT/body)
/// TARGET is head (RequestHeadParser), target (CanonicalTarget), chunk (chunk size line) or body
/// (one chunked body as a client and as an upstream sends it: both sides must agree).
/// </summary>
public static class Program
{
    private static readonly Dictionary<string, Action<byte[]>> Targets = new(StringComparer.Ordinal)
    {
        ["head"] = HeadTarget.Run,
        ["target"] = TargetTarget.Run,
        ["chunk"] = ChunkTarget.Run,
        ["body"] = BodyTarget.Run,
    };

    public static int Main(string[] args)
    {
        if (args.Length == 3 && args[0] == "corpus")
        {
            return CorpusBuilder.Build(args[1], args[2]);
        }

        if (args.Length == 0 || !Targets.TryGetValue(args[0], out var target))
        {
            Console.Error.WriteLine("usage: Gatehouse.Fuzz head|target|chunk|body [--replay PATH... | --minimize IN OUT]");
            return 2;
        }

        if (args.Length >= 2 && args[1] == "--replay")
        {
            return Replay(target, args[2..]);
        }

        if (args.Length == 4 && args[1] == "--minimize")
        {
            return Minimize(target, args[2], args[3]);
        }

        using var buffer = new MemoryStream();
        Fuzzer.Run(stream =>
        {
            buffer.SetLength(0);
            stream.CopyTo(buffer);
            target(buffer.ToArray());
        });
        return 0;
    }

    private static int Replay(Action<byte[]> target, string[] paths)
    {
        var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]).ToList();
        var failed = 0;
        foreach (var file in files)
        {
            if (Failure(target, File.ReadAllBytes(file)) is { } failure)
            {
                failed++;
                Console.WriteLine($"FAIL {file}: {failure.GetType().Name}: {failure.Message}");
            }
        }

        Console.WriteLine($"{files.Count - failed} passed, {failed} failed");
        return failed == 0 ? 0 : 1;
    }

    /// <summary>Greedy delta debugging: drop chunks, then single bytes, while the same exception type still escapes.</summary>
    private static int Minimize(Action<byte[]> target, string input, string output)
    {
        var bytes = File.ReadAllBytes(input);
        var original = Failure(target, bytes);
        if (original is null)
        {
            Console.Error.WriteLine("the input does not fail");
            return 1;
        }

        var kind = original.GetType();
        for (var chunk = Math.Max(1, bytes.Length / 2); chunk >= 1; chunk /= 2)
        {
            var progress = true;
            while (progress)
            {
                progress = false;
                for (var start = 0; start + chunk <= bytes.Length; start++)
                {
                    var candidate = bytes[..start].Concat(bytes[(start + chunk)..]).ToArray();
                    if (Failure(target, candidate)?.GetType() == kind)
                    {
                        bytes = candidate;
                        progress = true;
                    }
                }
            }
        }

        File.WriteAllBytes(output, bytes);
        var final = Failure(target, bytes)!;
        Console.WriteLine($"{bytes.Length} bytes: {ChunkTarget.Show(bytes)}");
        Console.WriteLine($"{final.GetType().Name}: {final.Message}");
        return 0;
    }

    private static Exception? Failure(Action<byte[]> target, byte[] bytes)
    {
        try
        {
            target(bytes);
            return null;
        }
#pragma warning disable CA1031 // every escaping exception is a finding to report
        catch (Exception e)
#pragma warning restore CA1031
        {
            return e;
        }
    }
}
