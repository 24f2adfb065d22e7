using System.Text;

namespace Gatehouse.Files.Tests;

internal static class RawHttp
{
    /// <summary>Reads until the server closes (or resets), as Latin-1 text.</summary>
    public static async Task<string> ReadToEndAsync(Stream stream)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, timeout.Token)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (IOException)
        {
            // a reset after the answer still leaves the answer
        }

        return Encoding.Latin1.GetString(received.ToArray());
    }
}
