using System.Text.RegularExpressions;

namespace Gatehouse.Discovery;

/// <summary>
/// The short device name a gateway announces ("laptop", "Jo's phone" is refused: keep it to what
/// every terminal and log shows plainly). It is a DNS label, so at most 63 bytes.
/// </summary>
internal static partial class DeviceName
{
    public static bool IsValid(string name) => Pattern().IsMatch(name);

    /// <summary>The host name cut to a valid device name, or "gatehouse".</summary>
    public static string Default()
    {
        var cleaned = new string([.. Environment.MachineName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_').Take(63)]);
        return cleaned.Length > 0 && IsValid(cleaned) ? cleaned : "gatehouse";
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
