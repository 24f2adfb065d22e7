using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Gatehouse.Config;

/// <summary>
/// Applies <c>"limits"</c> overrides onto the defaults of <see cref="GatewayLimits"/>: camelCase
/// property names of any layer's limits, durations in seconds.
/// </summary>
internal static class LimitsBinder
{
    public static GatewayLimits Apply(IReadOnlyDictionary<string, JsonElement> overrides)
    {
        // Fresh parts, set here before anyone else sees them; init-only from then on.
        var limits = new GatewayLimits();
        foreach (var (name, value) in overrides)
        {
            if (!TrySet(limits.Wire, name, value) && !TrySet(limits.Http1, name, value) && !TrySet(limits.Upstream, name, value))
            {
                throw new FormatException($"unknown limit \"{name}\"");
            }
        }

        return limits;
    }

    /// <returns>False when <typeparamref name="T"/> has no limit called <paramref name="name"/>.</returns>
    private static bool TrySet<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] T>(T limits, string name, JsonElement value)
        where T : notnull
    {
        var property = typeof(T).GetProperties().FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase));
        if (property is null)
        {
            return false;
        }

        if (value.ValueKind != JsonValueKind.Number)
        {
            throw new FormatException($"{name}: expected a number");
        }

        if (property.PropertyType == typeof(TimeSpan))
        {
            var seconds = value.GetDouble();
            if (seconds <= 0)
            {
                throw new FormatException($"{name}: must be positive seconds");
            }

            property.SetValue(limits, TimeSpan.FromSeconds(seconds));
        }
        else if (property.PropertyType == typeof(int))
        {
            property.SetValue(limits, value.TryGetInt32(out var number) && number > 0 ? number : throw new FormatException($"{name}: must be a positive integer"));
        }
        else if (property.PropertyType == typeof(long))
        {
            property.SetValue(limits, value.TryGetInt64(out var number) && number > 0 ? number : throw new FormatException($"{name}: must be a positive integer"));
        }

        return true;
    }
}
