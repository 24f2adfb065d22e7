using System.Reflection;
using Gatehouse.Config;

namespace Gatehouse.Tests;

/// <summary>Every limit of the flat <c>"limits"</c> section: each layer's limit types, with their defaults.</summary>
internal static class LimitDefaults
{
    public static IReadOnlyList<(PropertyInfo Property, object Value)> All { get; } = Read();

    private static List<(PropertyInfo, object)> Read()
    {
        var limits = new GatewayLimits();
        object[] parts = [limits.Wire, limits.Http1, limits.Upstream];
        return [.. parts.SelectMany(part => part.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).Select(p => (p, p.GetValue(part)!)))];
    }
}
