using System.Text;

namespace Gatehouse.Tests;

/// <summary>Reads an HTTP/1.1 answer byte by byte off a raw stream, so a test sees exactly what the gateway framed.</summary>
internal sealed class RawHttpReader(Stream stream)
{
    private readonly byte[] _one = new byte[1];

    /// <summary>The status line and fields, up to the blank line; null when the connection closed first.</summary>
    public async Task<string?> ReadHeadAsync(CancellationToken token)
    {
        var head = new StringBuilder();
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await ReadByteAsync(token) is not { } b)
            {
                return null;
            }

            head.Append((char)b);
        }

        return head.ToString();
    }

    /// <summary>One chunk's data; empty for the last chunk (then its trailing CRLF is read too); null when the connection closed first.</summary>
    public async Task<string?> ReadChunkAsync(CancellationToken token)
    {
        var sizeLine = await ReadLineAsync(token);
        if (sizeLine is null)
        {
            return null;
        }

        var size = Convert.ToInt32(sizeLine, 16);
        var data = new StringBuilder();
        for (var i = 0; i < size; i++)
        {
            if (await ReadByteAsync(token) is not { } b)
            {
                return null;
            }

            data.Append((char)b);
        }

        return await ReadLineAsync(token) is null ? null : data.ToString();
    }

    /// <summary>Exactly <paramref name="count"/> bytes; null when the connection closed first.</summary>
    public async Task<byte[]?> ReadBytesAsync(int count, CancellationToken token)
    {
        var bytes = new byte[count];
        for (var i = 0; i < count; i++)
        {
            if (await ReadByteAsync(token) is not { } b)
            {
                return null;
            }

            bytes[i] = b;
        }

        return bytes;
    }

    /// <summary>True when the connection ends (EOF or reset) before <paramref name="token"/> fires.</summary>
    public async Task<bool> ClosedAsync(CancellationToken token)
    {
        try
        {
            while (await ReadByteAsync(token) is not null)
            {
            }

            return true;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private async Task<string?> ReadLineAsync(CancellationToken token)
    {
        var line = new StringBuilder();
        while (!line.ToString().EndsWith("\r\n", StringComparison.Ordinal))
        {
            if (await ReadByteAsync(token) is not { } b)
            {
                return null;
            }

            line.Append((char)b);
        }

        return line.ToString()[..^2];
    }

    private async Task<byte?> ReadByteAsync(CancellationToken token) =>
        await stream.ReadAsync(_one, token) == 0 ? null : _one[0];
}
