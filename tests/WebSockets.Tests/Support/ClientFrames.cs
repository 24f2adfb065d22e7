namespace Gatehouse.WebSockets.Tests.Support;

/// <summary>Splits a vector's masked client frames at frame boundaries, for "one write per frame" replays.</summary>
internal static class ClientFrames
{
    public static IEnumerable<byte[]> Split(byte[] bytes)
    {
        var offset = 0;
        while (offset < bytes.Length)
        {
            if (bytes.Length - offset < 2)
            {
                yield return bytes[offset..];
                yield break;
            }

            long length = bytes[offset + 1] & 0x7F;
            var header = 2;
            if (length == 126)
            {
                header = 4;
                length = (bytes[offset + 2] << 8) | bytes[offset + 3];
            }
            else if (length == 127)
            {
                header = 10;
                length = 0;
                for (var i = 2; i < 10; i++)
                {
                    length = (length << 8) | bytes[offset + i];
                }
            }

            header += (bytes[offset + 1] & 0x80) != 0 ? 4 : 0;
            var end = (int)Math.Min(bytes.Length, offset + header + length);
            yield return bytes[offset..end];
            offset = end;
        }
    }
}
