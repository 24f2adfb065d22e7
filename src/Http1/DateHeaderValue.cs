using System.Text;

namespace Gatehouse.Http1;

/// <summary>The IMF-fixdate for the Date header, formatted at most once a second and shared by all responses.</summary>
internal static class DateHeaderValue
{
    private static (long Second, byte[] Bytes) _current = (0, []);

    public static ReadOnlySpan<byte> Current
    {
        get
        {
            var now = DateTimeOffset.UtcNow;
            var second = now.ToUnixTimeSeconds();
            var current = _current;
            if (current.Second != second)
            {
                current = (second, Encoding.ASCII.GetBytes(now.ToString("r", System.Globalization.CultureInfo.InvariantCulture)));
                _current = current;
            }

            return current.Bytes;
        }
    }
}
