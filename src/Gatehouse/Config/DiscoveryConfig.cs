namespace Gatehouse.Config;

/// <summary>
/// Discovery on the local link (issue 21): multicast DNS / DNS-SD announcing and browsing for
/// <c>_gatehouse._tcp</c>. Off when the section is absent; <c>gatehouse init</c> writes it on.
/// </summary>
public sealed class DiscoveryConfig
{
    public bool Enabled { get; set; } = true;

    /// <summary>False: only browse (see others, and find known peers), never announce this gateway.</summary>
    public bool Announce { get; set; } = true;

    /// <summary>The short device name announced; default: the host name.</summary>
    public string? Name { get; set; }

    /// <summary>Interface names to use ("eth0", "wlan0"); empty: every multicast interface that is up.</summary>
    public List<string> Interfaces { get; set; } = [];
}
