namespace Gatehouse.Discovery;

/// <summary>
/// A domain name as its labels, compared ASCII-case-insensitively (RFC 1035 §2.3.3; RFC 6762 §16:
/// labels are UTF-8). Kept as labels, not dotted text, because a DNS-SD instance label may itself
/// contain dots (RFC 6763 §4.3).
/// </summary>
internal sealed class DnsName : IEquatable<DnsName>
{
    /// <summary>RFC 1035 §2.3.4.</summary>
    public const int MaxLabelBytes = 63;

    /// <summary>RFC 1035 §2.3.4: the whole name on the wire, length bytes and the root included.</summary>
    public const int MaxWireBytes = 255;

    public DnsName(IReadOnlyList<string> labels)
    {
        var wire = 1;
        foreach (var label in labels)
        {
            var bytes = System.Text.Encoding.UTF8.GetByteCount(label);
            if (bytes is 0 or > MaxLabelBytes)
            {
                throw new ArgumentException($"a DNS label is 1..{MaxLabelBytes} bytes", nameof(labels));
            }

            wire += 1 + bytes;
        }

        if (wire > MaxWireBytes)
        {
            throw new ArgumentException($"a DNS name is at most {MaxWireBytes} bytes", nameof(labels));
        }

        Labels = labels;
    }

    public IReadOnlyList<string> Labels { get; }

    /// <summary>Splits plain dotted text (no dots inside labels), e.g. "_gatehouse._tcp.local".</summary>
    public static DnsName Parse(string dotted) => new(dotted.TrimEnd('.').Split('.'));

    /// <summary>This name with <paramref name="label"/> in front, e.g. an instance under its service type.</summary>
    public DnsName Prepend(string label) => new([label, .. Labels]);

    public bool Equals(DnsName? other) =>
        other is not null
        && other.Labels.Count == Labels.Count
        && Labels.Zip(other.Labels).All(pair => string.Equals(pair.First, pair.Second, StringComparison.OrdinalIgnoreCase));

    public override bool Equals(object? obj) => Equals(obj as DnsName);

    public override int GetHashCode()
    {
        var hash = default(HashCode);
        foreach (var label in Labels)
        {
            hash.Add(label, StringComparer.OrdinalIgnoreCase);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => string.Join('.', Labels);
}
