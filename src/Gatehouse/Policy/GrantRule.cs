using System.Collections.Frozen;
using Gatehouse.Config;
using Gatehouse.Files;
using Gatehouse.Proxy;

namespace Gatehouse.Policy;

/// <summary>
/// One rule of the config compiled once per load (issue 20 item 4): grants as flags and frozen
/// sets, so a request is judged without reading grant strings. <see cref="Config"/> keeps the rule
/// as written for what people read (the status page).
/// </summary>
public sealed class GrantRule
{
    private readonly uint _couchGrants;
    private readonly string[] _couchDatabases;
    private readonly FrozenSet<string> _proxyNames;
    private readonly FrozenSet<string> _peers;

    public GrantRule(RuleConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        Principals = [.. config.Principals];
        Role = config.Role;
        Admin = config.Admin;
        MaxUploadBytes = config.MaxUploadBytes;
        foreach (var grant in config.Files ?? [])
        {
            Files |= grant switch
            {
                "read" => FileRights.Read,
                "write" => FileRights.Write,
                "delete" => FileRights.Delete,
                _ => FileRights.None,
            };
        }

        if (config.Couchdb is { } couch)
        {
            foreach (var grant in couch.Allow)
            {
                if (ToAccess(grant) is var access and not CouchAccess.Denied)
                {
                    _couchGrants |= Bit(access);
                }
            }

            _couchDatabases = [.. couch.Databases];
        }
        else
        {
            _couchDatabases = [];
        }

        _proxyNames = (config.Proxy ?? []).ToFrozenSet(StringComparer.Ordinal);
        _peers = (config.Peers ?? []).ToFrozenSet(StringComparer.Ordinal);
    }

    /// <summary>The rule as the config wrote it.</summary>
    public RuleConfig Config { get; }

    public IReadOnlyList<string> Principals { get; }

    /// <summary>Whose CouchDB credential and identity headers the rule's requests carry.</summary>
    public string? Role { get; }

    /// <summary>May read the gateway's own views (metrics, status).</summary>
    public bool Admin { get; }

    public FileRights Files { get; }

    /// <summary>The largest upload this rule lets through; null for no limit of its own.</summary>
    public long? MaxUploadBytes { get; }

    /// <summary>True when the rule grants some CouchDB class on some database.</summary>
    public bool HasCouch => _couchGrants != 0 && _couchDatabases.Length > 0;

    public bool HasProxy => _proxyNames.Count > 0;

    public bool HasPeers => _peers.Count > 0;

    /// <summary>True when the rule grants <paramref name="access"/> (on the databases it names).</summary>
    public bool Grants(CouchAccess access) => access != CouchAccess.Denied && (_couchGrants & Bit(access)) != 0;

    /// <summary>True when the rule opens the endpoint <paramref name="classification"/> names (its primary class or its second).</summary>
    public bool Grants(in CouchClassification classification) =>
        Grants(classification.Access) || Grants(classification.AlsoGrantedBy);

    /// <summary>True when one of the rule's database patterns names <paramref name="database"/>.</summary>
    public bool NamesDatabase(string database)
    {
        foreach (var pattern in _couchDatabases)
        {
            if (DatabasePattern.Matches(pattern, database))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>True when the rule grants the proxy or websocket route by its name or prefix.</summary>
    public bool NamesRoute(string name, string prefix) => _proxyNames.Contains(name) || _proxyNames.Contains(prefix);

    /// <summary>True when the rule grants the peer link <paramref name="peer"/> (or every one, "*").</summary>
    public bool MayUsePeer(string peer) => _peers.Contains(peer) || _peers.Contains("*");

    /// <summary>The class a grant name stands for; <see cref="CouchAccess.Denied"/> for none (the loader refuses unknown names).</summary>
    public static CouchAccess ToAccess(string grant) => grant switch
    {
        "pull" => CouchAccess.Pull,
        "push" => CouchAccess.Push,
        "read" => CouchAccess.Read,
        "write" => CouchAccess.Write,
        "create" => CouchAccess.Create,
        "design" => CouchAccess.Design,
        "query" => CouchAccess.Query,
        "delete" => CouchAccess.Delete,
        "maintain" => CouchAccess.Maintain,
        "replicate" => CouchAccess.Replicate,
        _ => CouchAccess.Denied,
    };

    private static uint Bit(CouchAccess access) => 1u << (int)access;
}
