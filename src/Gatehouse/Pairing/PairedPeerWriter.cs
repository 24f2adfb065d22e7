using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Gatehouse.Config;

namespace Gatehouse.Pairing;

/// <summary>What the person chose at pairing: the CouchDB grants the other device gets here.</summary>
/// <param name="Allow">Access classes (pull, push, …); empty: peer link only, no database.</param>
/// <param name="Databases">Database patterns the classes apply to.</param>
internal sealed record PairingGrants(IReadOnlyList<string> Allow, IReadOnlyList<string> Databases)
{
    public static PairingGrants None { get; } = new([], []);

    public override string ToString() => Allow.Count == 0 ? "peer link only, no database" : $"couchdb {string.Join("/", Allow)} on {string.Join(", ", Databases)}";
}

/// <summary>
/// Writes a paired device into the config in one atomic edit (<see cref="ConfigFileEditor"/>:
/// validated as <c>serve</c> would, then renamed over the file): its pin on the whitelist
/// (<c>trust.pins</c>, so its gateway may connect here), its entry in the peer table (so this
/// gateway may connect there), and — only when grants were chosen — a rule for
/// <c>pinned:NAME</c> with role "peer". The three share the name, so <c>gatehouse unpair NAME</c>
/// finds all of them.
/// </summary>
internal static partial class PairedPeerWriter
{
    /// <summary>The CouchDB classes a paired device may be given (design and admin stay a decision made by hand).</summary>
    public static readonly IReadOnlySet<string> Grantable = new HashSet<string>(["pull", "push", "read", "write", "create"], StringComparer.Ordinal);

    public const string Role = "peer";

    /// <exception cref="ConfigException">The name or pin is taken, or the edited config would be invalid; nothing was written.</exception>
    public static void Add(string configPath, string name, string pin, string address, PairingGrants grants)
    {
        ConfigFileEditor.Edit(configPath, root =>
        {
            var trustPins = ArrayAt(ObjectAt(root, "trust"), "pins", "$.trust.pins");
            var peers = ArrayAt(root, "peers", "$.peers");
            if ((TakenBy(peers, name, pin) ?? TakenBy(trustPins, name, pin)) is { } taken)
            {
                throw new ConfigException(taken);
            }

            trustPins.Add((JsonNode)new JsonObject { ["name"] = name, ["pin"] = pin });
            peers.Add((JsonNode)new JsonObject
            {
                ["name"] = name,
                ["pins"] = new JsonArray((JsonNode)pin),
                ["addresses"] = new JsonArray((JsonNode)address),
            });
            if (grants.Allow.Count > 0)
            {
                ArrayAt(root, "rules", "$.rules").Add((JsonNode)new JsonObject
                {
                    ["principals"] = new JsonArray((JsonNode)("pinned:" + name)),
                    ["role"] = Role,
                    ["couchdb"] = new JsonObject
                    {
                        ["databases"] = new JsonArray([.. grants.Databases.Select(d => (JsonNode)d)]),
                        ["allow"] = new JsonArray([.. grants.Allow.Select(a => (JsonNode)a)]),
                    },
                });
            }
        });
    }

    /// <summary>
    /// Unpairs: takes the peer table entry, the whitelisted pin and the rules' mentions of
    /// <paramref name="name"/> out in one atomic edit. A rule left naming nobody goes too; a
    /// <c>peers</c> grant loses the name. A running gateway reloads and, the key being no longer
    /// trusted, closes that device's connections (GatehouseServer.ReloadAsync).
    /// </summary>
    /// <returns>The pins that were taken off the whitelist.</returns>
    /// <exception cref="ConfigException">Nothing by that name, or the edited config would be invalid; nothing was written.</exception>
    public static IReadOnlyList<string> Remove(string configPath, string name)
    {
        var removedPins = new List<string>();
        var found = false;
        ConfigFileEditor.Edit(configPath, root =>
        {
            if (root["peers"] is JsonArray peers)
            {
                found |= RemoveWhere(peers, p => p?["name"]?.GetValue<string>() == name) > 0;
            }

            if (root["trust"]?["pins"] is JsonArray pins)
            {
                foreach (var entry in pins.Where(p => p?["name"]?.GetValue<string>() == name))
                {
                    removedPins.Add(entry?["pin"]?.GetValue<string>() ?? string.Empty);
                }

                found |= RemoveWhere(pins, p => p?["name"]?.GetValue<string>() == name) > 0;
            }

            if (!found)
            {
                throw new ConfigException($"no peer or pin named \"{name}\" in the config");
            }

            if (root["rules"] is JsonArray rules)
            {
                foreach (var rule in rules.OfType<JsonObject>())
                {
                    if (rule["principals"] is JsonArray principals)
                    {
                        RemoveWhere(principals, p => p?.GetValue<string>() == "pinned:" + name);
                    }

                    if (rule["peers"] is JsonArray grants)
                    {
                        RemoveWhere(grants, p => p?.GetValue<string>() == name);
                    }
                }

                RemoveWhere(rules, r => r?["principals"] is JsonArray { Count: 0 });
            }
        });
        return removedPins;
    }

    /// <summary>Whether a name is free in both the peer table and the whitelist of <paramref name="config"/>.</summary>
    public static bool IsFree(GatehouseConfig config, string name) =>
        config.Peers.All(p => p.Name != name) && config.Trust.Pins.All(p => p.Name != name);

    /// <summary>The pin is already known here: a device paired before, under this name.</summary>
    public static string? KnownAs(GatehouseConfig config, string pin) =>
        config.Peers.FirstOrDefault(p => p.Pins.Contains(pin))?.Name ?? config.Trust.Pins.FirstOrDefault(p => p.Pin == pin)?.Name;

    /// <summary>
    /// A usable name from the other device's hint (letters, digits, '.', '_', '-'), made unique with
    /// a few characters of its pin; the hint is only a label, never trusted for anything.
    /// </summary>
    public static string DefaultName(GatehouseConfig config, string? hint, string pin)
    {
        var cleaned = new string([.. (hint ?? string.Empty).Where(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-').Take(48)]).TrimStart('.', '_', '-');
        var name = cleaned.Length > 0 ? cleaned : "peer";
        if (IsFree(config, name))
        {
            return name;
        }

        var digest = Convert.FromBase64String(pin[Wire.KeyPin.Prefix.Length..]);
        return name + "-" + Convert.ToHexStringLower(digest.AsSpan(0, 3));
    }

    public static bool IsValidName(string name) => PeerName().IsMatch(name);

    private static string? TakenBy(JsonArray entries, string name, string pin)
    {
        foreach (var entry in entries)
        {
            if (entry?["name"]?.GetValue<string>() == name)
            {
                return $"\"{name}\" is already a name in the config; pick another with --name";
            }

            var pins = entry?["pins"] is JsonArray list ? list.Select(p => p?.GetValue<string>()) : [entry?["pin"]?.GetValue<string>()];
            if (pins.Contains(pin))
            {
                return $"this device is already in the config as \"{entry?["name"]}\"; `gatehouse unpair {entry?["name"]}` first";
            }
        }

        return null;
    }

    private static int RemoveWhere(JsonArray array, Func<JsonNode?, bool> match)
    {
        var doomed = array.Where(match).ToList();
        foreach (var node in doomed)
        {
            array.Remove(node);
        }

        return doomed.Count;
    }

    private static JsonObject ObjectAt(JsonObject parent, string key)
    {
        if (parent[key] is JsonObject found)
        {
            return found;
        }

        if (parent[key] is not null)
        {
            throw new ConfigException($"$.{key} must be an object");
        }

        var created = new JsonObject();
        parent[key] = created;
        return created;
    }

    private static JsonArray ArrayAt(JsonObject parent, string key, string field)
    {
        if (parent[key] is JsonArray found)
        {
            return found;
        }

        if (parent[key] is not null)
        {
            throw new ConfigException(field + " must be a list");
        }

        var created = new JsonArray();
        parent[key] = created;
        return created;
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex PeerName();
}
