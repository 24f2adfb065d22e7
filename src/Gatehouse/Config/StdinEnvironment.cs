using System.Text.Json;

namespace Gatehouse.Config;

/// <summary>
/// Secrets that never go in argv, the environment or the config file: read once from stdin
/// with <c>--env-stdin</c> (DESIGN.md "Process contract").
/// </summary>
public sealed class StdinEnvironment
{
    public CouchEnvironment? Couchdb { get; set; }

    public string? KeyPassphrase { get; set; }
}

public sealed class CouchEnvironment
{
    /// <summary>One URL or a list of cluster node URLs.</summary>
    public JsonElement Url { get; set; }

    public Dictionary<string, CouchCredential> Credentials { get; set; } = [];

    /// <summary>
    /// When set, roles are presented to CouchDB with proxy authentication (X-Auth-CouchDB-UserName,
    /// -Roles, -Token = hex HMAC-SHA256 of the user name with this secret) instead of Basic; it must
    /// equal CouchDB's [chttpd_auth] secret (with sha256 among its hash_algorithms).
    /// </summary>
    public string? ProxyAuthSecret { get; set; }

    /// <summary>The node URLs, whichever shape <see cref="Url"/> had.</summary>
    public IReadOnlyList<Uri> NodeUrls() => Url.ValueKind switch
    {
        JsonValueKind.String => [new Uri(Url.GetString()!, UriKind.Absolute)],
        JsonValueKind.Array => [.. Url.EnumerateArray().Select(e => new Uri(e.GetString() ?? string.Empty, UriKind.Absolute))],
        _ => [],
    };
}

public sealed class CouchCredential
{
    public string Username { get; set; } = string.Empty;

    public string Password { get; set; } = string.Empty;

    /// <summary>CouchDB roles sent with proxy authentication; "_admin" is refused at startup.</summary>
    public List<string> Roles { get; set; } = [];

    /// <summary>Never print a credential, even by accident.</summary>
    public override string ToString() => $"{Username}:***";
}
