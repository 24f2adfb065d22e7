using System.Text.Json;

namespace Gatehouse.Config;

/// <summary>The config file, as written by the user (DESIGN.md "Shapes of the config"). Validated by <see cref="ConfigLoader"/>.</summary>
public sealed class GatehouseConfig
{
    public List<ListenConfig> Listen { get; set; } = [];

    public TlsConfig? Tls { get; set; }

    public TrustConfig Trust { get; set; } = new();

    public List<RouteConfig> Routes { get; set; } = [];

    public List<RuleConfig> Rules { get; set; } = [];

    /// <summary>Overrides of <see cref="Wire.Limits"/> by property name in camelCase; durations in seconds.</summary>
    public Dictionary<string, JsonElement> Limits { get; set; } = [];
}

public sealed class ListenConfig
{
    public string Address { get; set; } = "::";

    public int Port { get; set; }

    public bool Tls { get; set; } = true;

    /// <summary>"required" (default), "optional" (no certificate = the anonymous principal) or "none".</summary>
    public string ClientCertificate { get; set; } = "required";

    /// <summary>A plain loopback listener whose callers are the device's own user.</summary>
    public bool Local { get; set; }
}

public sealed class TlsConfig
{
    public string Certificate { get; set; } = string.Empty;

    public string Key { get; set; } = string.Empty;
}

public sealed class TrustConfig
{
    public List<CaConfig> Cas { get; set; } = [];

    public List<PinConfig> Pins { get; set; } = [];

    public List<string> Deny { get; set; } = [];
}

public sealed class CaConfig
{
    public string Name { get; set; } = string.Empty;

    public string Certificate { get; set; } = string.Empty;
}

public sealed class PinConfig
{
    public string Name { get; set; } = string.Empty;

    public string Pin { get; set; } = string.Empty;
}

public sealed class RouteConfig
{
    /// <summary>"files", "couchdb" or "proxy".</summary>
    public string Kind { get; set; } = string.Empty;

    public string Prefix { get; set; } = string.Empty;

    /// <summary>Store roots of a files route.</summary>
    public List<string>? Stores { get; set; }

    /// <summary>Backend URL of a proxy route.</summary>
    public string? Backend { get; set; }

    /// <summary>Name that rules use to grant a proxy route; defaults to the prefix.</summary>
    public string? Name { get; set; }
}

public sealed class RuleConfig
{
    /// <summary>Selectors: "ca:NAME", "pinned:NAME", "sha256//…", "anonymous", "local", "*".</summary>
    public List<string> Principals { get; set; } = [];

    /// <summary>Selects the CouchDB credential injected for these principals.</summary>
    public string? Role { get; set; }

    public CouchRuleConfig? Couchdb { get; set; }

    /// <summary>"read" and/or "write" on files routes.</summary>
    public List<string>? Files { get; set; }

    /// <summary>Names (or prefixes) of proxy routes these principals may use.</summary>
    public List<string>? Proxy { get; set; }
}

public sealed class CouchRuleConfig
{
    /// <summary>Database names, with '*' as a wildcard ("novacut-0-*").</summary>
    public List<string> Databases { get; set; } = [];

    /// <summary>"pull", "push", "read", "write", "create".</summary>
    public List<string> Allow { get; set; } = [];
}
