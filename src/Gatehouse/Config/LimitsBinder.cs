using System.Text.Json;
using Gatehouse.Wire;

namespace Gatehouse.Config;

/// <summary>Applies <c>"limits"</c> overrides onto <see cref="Limits"/>: camelCase property names, durations in seconds.</summary>
internal static class LimitsBinder
{
    public static Limits Apply(Limits limits, IReadOnlyDictionary<string, JsonElement> overrides)
    {
        foreach (var (name, value) in overrides)
        {
            var property = typeof(Limits).GetProperties()
                .FirstOrDefault(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase))
                ?? throw new FormatException($"unknown limit \"{name}\"");
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
        }

        return limits;
    }
}
