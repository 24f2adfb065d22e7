using System.Security.Cryptography;

namespace Gatehouse.Tests;

/// <summary>
/// A 1 GiB file uploaded and downloaded through the real executable with curl, while the
/// server's peak resident memory (VmHWM) stays far below the file size: bodies stream.
/// </summary>
public sealed class LargeFileProcessTests
{
    private const long FileSize = 1L << 30;

    [Fact]
    public async Task OneGibibyteUpAndDownWithFlatServerMemory()
    {
        using var dir = new TempDirectory();
        await ProcessTests.InitPlainAsync(dir);
        var config = await File.ReadAllTextAsync(dir.File("gatehouse.json"));
        await File.WriteAllTextAsync(dir.File("gatehouse.json"), config.Replace("\"port\": 0", "\"port\": 0, \"address\": \"127.0.0.1\"", StringComparison.Ordinal).Replace("\"address\": \"::\", ", string.Empty, StringComparison.Ordinal));

        var id = await WriteRandomFileAsync(dir.File("big.bin"));
        using var gatehouse = GatehouseProcess.Start(null, "serve", "--config", dir.File("gatehouse.json"), "--log-level", "Warning");
        var ready = await gatehouse.WaitReadyAsync();
        var port = ready.GetProperty("listen")[0].GetProperty("port").GetInt32();
        var pin = ready.GetProperty("pin").GetString()!;
        string[] tls = ["-k", "--pinnedpubkey", pin, "--cert", dir.File("client.crt"), "--key", dir.File("client.key"), "--max-time", "300"];
        var url = $"https://127.0.0.1:{port}/files/{id}";

        var put = await Curl.RunAsync([.. tls, "-T", dir.File("big.bin"), "-o", "/dev/null", "-w", "%{http_code} %{speed_upload}", url]);
        Assert.True(put.Stdout.StartsWith("201", StringComparison.Ordinal), put.Stdout + put.Stderr);
        File.Delete(dir.File("big.bin"));

        var get = await Curl.RunAsync([.. tls, "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{speed_download}", url]);
        Assert.True(get.Stdout.StartsWith($"200 {FileSize}", StringComparison.Ordinal), get.Stdout + get.Stderr);

        var peakKiB = PeakResidentKiB(gatehouse.ProcessId);
        // The runtime alone takes tens of MiB; 1 GiB through a buffering server would show here.
        Assert.True(peakKiB < 200 * 1024, $"server peak RSS {peakKiB} KiB while moving a 1 GiB file");
    }

    private static async Task<string> WriteRandomFileAsync(string path)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var block = new byte[4 * 1024 * 1024];
        await using var file = File.Create(path);
        for (long written = 0; written < FileSize; written += block.Length)
        {
            RandomNumberGenerator.Fill(block);
            sha.AppendData(block);
            await file.WriteAsync(block);
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static long PeakResidentKiB(int pid)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("no VmHWM");
    }
}
