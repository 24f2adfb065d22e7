using System.Text.Json;

namespace Gatehouse.Config;

/// <summary>
/// The config file, as written by the user (DESIGN.md "Shapes of the config"). Checked by
/// <see cref="ConfigValidator"/>, never edited after loading; the running gateway reads the
/// <see cref="Model.CompiledConfig"/> built from it.
/// </summary>
public sealed class GatehouseConfig
{
    /// <summary>Where editors find gatehouse.schema.json; accepted and ignored (unknown fields are otherwise an error).</summary>
    [System.Text.Json.Serialization.JsonPropertyName("$schema")]
    public string? Schema { get; set; }

    /// <summary>The file this config was read from (empty when built in code), for error messages.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string SourcePath { get; set; } = string.Empty;

    public List<ListenConfig> Listen { get; set; } = [];

    public TlsConfig? Tls { get; set; }

    public TrustConfig Trust { get; set; } = new();

    public List<RouteConfig> Routes { get; set; } = [];

    public List<RuleConfig> Rules { get; set; } = [];

    /// <summary>Overrides of <see cref="GatewayLimits"/> by property name in camelCase; durations in seconds.</summary>
    public Dictionary<string, JsonElement> Limits { get; set; } = [];

    /// <summary>Other devices' Gatehouses, reached over key-pinned TLS links from loopback (issue 8).</summary>
    public List<PeerConfig> Peers { get; set; } = [];

    /// <summary>Announcing this gateway and finding others on the local link (issue 21); null: off.</summary>
    public DiscoveryConfig? Discovery { get; set; }

    /// <summary>How a running gateway picks up changes to this file and the files it names (issue 7).</summary>
    public ReloadConfig Reload { get; set; } = new();

    /// <summary>How the gateway works with the .NET runtime under it; read at startup only.</summary>
    public RuntimeConfig Runtime { get; set; } = new();
}

public sealed class RuntimeConfig
{
    /// <summary>
    /// Save memory on idle TLS connections by reaching past .NET's public API into SslStream's private
    /// fields and OpenSSL (src/Wire/Tuning). Off: every stream as .NET makes it, an SSL_CTX per connection.
    /// </summary>
    public bool TlsTuning { get; set; } = true;
}

public sealed class ReloadConfig
{
    /// <summary>
    /// Reload when this file, the server certificate or key, a CA certificate or a peer link's
    /// certificate or key changes on disk, as SIGHUP does. Off: only SIGHUP reloads.
    /// </summary>
    public bool Watch { get; set; } = true;
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

    /// <summary>
    /// On a local listener: the local user passes every proxy route's access check ("local is
    /// trusted, remote must authenticate", issue 5). Every local listener must agree.
    /// Files and CouchDB keep their rules (name the "local" principal there).
    /// </summary>
    public bool Unrestricted { get; set; }
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
    /// <summary>"files", "couchdb", "proxy" or "websocket" (a handler the embedding app registers under the route's name).</summary>
    public string Kind { get; set; } = string.Empty;

    public string Prefix { get; set; } = string.Empty;

    /// <summary>Store roots of a files route.</summary>
    public List<string>? Stores { get; set; }

    /// <summary>Backend URL of a proxy route.</summary>
    public string? Backend { get; set; }

    /// <summary>Name that rules use to grant a proxy route; defaults to the prefix (or the regex).</summary>
    public string? Name { get; set; }

    /// <summary>What requests the route takes; <see cref="Prefix"/> is the short form of <c>match.pathPrefix</c>.</summary>
    public RouteMatchConfig? Match { get; set; }

    /// <summary>Remove the path prefix before forwarding (default true for prefix routes; regex routes never strip).</summary>
    public bool? StripPrefix { get; set; }

    /// <summary>Who may use a proxy route besides the principals granted by <c>rules[].proxy</c>.</summary>
    public RouteAccessConfig? Access { get; set; }

    /// <summary>Names of the identity headers the gateway sets for the backend; "" turns one off.</summary>
    public RouteHeadersConfig? Headers { get; set; }

    /// <summary>Seconds without a byte either way before a WebSocket tunnel is closed (default 600).</summary>
    public double? TunnelIdleTimeout { get; set; }

    /// <summary>Tunnel valid WebSocket upgrades to the backend (default false: every Upgrade is dropped).</summary>
    public bool? WebSockets { get; set; }

    /// <summary>
    /// proxy: forward path segments holding an encoded <c>/</c> or <c>\</c> (<c>%2F</c>, <c>%5C</c>)
    /// instead of refusing them with 400 (default false; Apache's AllowEncodedSlashes). A backend that
    /// decodes before it normalises reads <c>..%2F</c> as a step out of the mount.
    /// </summary>
    public bool? AllowEncodedSlashes { get; set; }

    /// <summary>
    /// proxy: forward client header fields whose name holds <c>_</c> (default false: dropped, since
    /// WSGI/CGI servers read <c>X_User</c> as <c>X-User</c>). Even then a name that reads as a header
    /// the gateway sets or strips (<c>X_Gatehouse_User</c>, <c>X_Forwarded_For</c>) is dropped.
    /// </summary>
    public bool? AllowUnderscoreHeaders { get; set; }

    /// <summary>
    /// proxy: pass the client's own <c>Authorization</c> to the app (issue 19). Default: true when
    /// the route has no <c>access.usersFile</c>; with one the gateway reads the Basic login itself
    /// and never forwards it (true is then a config error).
    /// </summary>
    public bool? PassAuthorization { get; set; }

    /// <summary>
    /// proxy: "rewrite" (default) puts the stripped mount in front of a <c>Set-Cookie</c> Path
    /// (<c>Path=/</c> under "/notebook/" becomes <c>Path=/notebook/</c>, as nginx's proxy_cookie_path);
    /// "keep" passes it unchanged. Changes nothing on routes that strip no prefix.
    /// </summary>
    public string? CookiePath { get; set; }

    /// <summary>
    /// proxy: "drop" (default) removes a <c>Set-Cookie</c> Domain attribute, so the cookie binds to
    /// the host the client reached the gateway at; "keep" passes it unchanged.
    /// </summary>
    public string? CookieDomain { get; set; }

    /// <summary>couchdb: where and with which credential the gateway records who created what (issue 7).</summary>
    public ProvenanceConfig? Provenance { get; set; }
}

/// <summary>
/// The provenance log of a couchdb route (issue 7). Without this object the defaults apply and
/// recording is on only when the stdin environment holds a credential for the default role;
/// with it, that credential is required at startup.
/// </summary>
public sealed class ProvenanceConfig
{
    public const string DefaultDatabase = "gatehouse-provenance";
    public const string DefaultRole = "provenance";

    /// <summary>The gateway's own database, closed to every remote principal whatever the rules say.</summary>
    public string Database { get; set; } = DefaultDatabase;

    /// <summary>The stdin <c>couchdb.credentials</c> entry the gateway writes the records with.</summary>
    public string Role { get; set; } = DefaultRole;
}

public sealed class RouteMatchConfig
{
    /// <summary>The request's Host, case-insensitive; without a port it matches any port.</summary>
    public string? Host { get; set; }

    public string? PathPrefix { get; set; }

    /// <summary>A .NET regular expression matched against the canonical (decoded) path, with a time limit.</summary>
    public string? PathRegex { get; set; }
}

public sealed class RouteAccessConfig
{
    /// <summary>Principal selectors let in without a rule ("ca:NAME", "sha256//…", "*" …).</summary>
    public List<string>? Principals { get; set; }

    /// <summary>HTTP Basic over TLS against this file (<c>gatehouse passwd FILE USER</c>).</summary>
    public string? UsersFile { get; set; }

    /// <summary>The local user (a plain loopback listener marked local) may use this route.</summary>
    public bool Local { get; set; }
}

public sealed class RouteHeadersConfig
{
    public string Principal { get; set; } = "X-Gatehouse-Principal";

    public string Subject { get; set; } = "X-Gatehouse-Subject";

    public string User { get; set; } = "X-Gatehouse-User";

    public string ForwardedHost { get; set; } = "X-Forwarded-Host";
}

public sealed class RuleConfig
{
    /// <summary>Selectors: "ca:NAME", "pinned:NAME", "sha256//…", "anonymous", "local", "*".</summary>
    public List<string> Principals { get; set; } = [];

    /// <summary>Selects the CouchDB credential injected for these principals.</summary>
    public string? Role { get; set; }

    public CouchRuleConfig? Couchdb { get; set; }

    /// <summary>"read", "write" and/or "delete" on files routes.</summary>
    public List<string>? Files { get; set; }

    /// <summary>
    /// Largest file these principals may upload (PUT on files routes; needs the "write" grant);
    /// larger answers 413. Null: only the store's own limit. When several rules grant a principal
    /// write, the most generous applies (a rule without a limit means none).
    /// </summary>
    public long? MaxUploadBytes { get; set; }

    /// <summary>Names (or prefixes) of proxy routes these principals may use.</summary>
    public List<string>? Proxy { get; set; }

    /// <summary>Operators: these principals may read /_gatehouse/metrics (the local user always may).</summary>
    public bool Admin { get; set; }

    /// <summary>The peer-link grant (issue 8): peer names these principals may reach through /_peers/NAME/, or "*".</summary>
    public List<string>? Peers { get; set; }
}

public sealed class CouchRuleConfig
{
    /// <summary>Database names, with '*' as a wildcard ("novacut-0-*").</summary>
    public List<string> Databases { get; set; } = [];

    /// <summary>"pull", "push", "read", "write", "create", "design" (design document writes), "query" (views, _find, design filters), "delete" (DELETE /db), "maintain" (_compact, _view_cleanup), "replicate" (POST /_replicate between databases and peer links the key may use).</summary>
    public List<string> Allow { get; set; } = [];
}
