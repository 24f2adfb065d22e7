using System.Globalization;
using System.Text.RegularExpressions;

namespace Gatehouse.Tests;

/// <summary>Reads one sample's value out of a Prometheus text scrape.</summary>
internal static partial class PrometheusSamples
{
    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?<labels>\{[^}]*\})? (?<value>\S+)$", RegexOptions.Multiline)]
    private static partial Regex SampleLine();

    /// <summary>The value of <paramref name="name"/> with exactly <paramref name="labels"/> (as rendered, sorted), or 0 when absent.</summary>
    public static double Sample(string text, string name, string labels)
    {
        foreach (Match match in SampleLine().Matches(text))
        {
            if (match.Groups["name"].Value == name && match.Groups["labels"].Value == labels)
            {
                return double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>The sum of every sample of <paramref name="name"/>, whatever its labels.</summary>
    public static double Sum(string text, string name)
    {
        var sum = 0.0;
        foreach (Match match in SampleLine().Matches(text))
        {
            if (match.Groups["name"].Value == name)
            {
                sum += double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return sum;
    }
}
