namespace Gatehouse.Config;

/// <summary>The one JSON line printed on stdout once every listener is bound.</summary>
public sealed class ReadyLine
{
    public bool Ready { get; set; } = true;

    public string Pin { get; set; } = string.Empty;

    public List<ReadyEndpoint> Listen { get; set; } = [];
}

public sealed class ReadyEndpoint
{
    public string Address { get; set; } = string.Empty;

    public int Port { get; set; }

    public bool Tls { get; set; }
}

/// <summary>The body of <c>GET /_gatehouse/whoami</c>.</summary>
public sealed class WhoAmI
{
    public string Pin { get; set; } = string.Empty;

    public string Subject { get; set; } = string.Empty;

    /// <summary>"ca", "pin", "local" or "none".</summary>
    public string Trust { get; set; } = string.Empty;

    /// <summary>The CA or whitelist entry that let the caller in.</summary>
    public string TrustName { get; set; } = string.Empty;

    public string RemoteAddress { get; set; } = string.Empty;
}
