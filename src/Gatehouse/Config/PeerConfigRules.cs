using System.Text.RegularExpressions;
using Gatehouse.Proxy;
using Gatehouse.Wire;

namespace Gatehouse.Config;

/// <summary>
/// The config checks of the peer table and the rules' <c>peers</c> grants (issue 8). Called by
/// <see cref="ConfigValidator"/>; every failure names the JSON path. Changes nothing: which
/// certificate and key a peer link presents is worked out where the runtime model is compiled.
/// </summary>
internal static partial class PeerConfigRules
{
    /// <summary>The path segment the peer link lives under.</summary>
    public const string PathSegment = "_peers";

    public static void Validate(GatehouseConfig config, Action<string, string> fail)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < config.Peers.Count; i++)
        {
            var peer = config.Peers[i];
            var field = $"$.peers[{i}]";
            if (!PeerName().IsMatch(peer.Name))
            {
                fail(field + ".name", "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (it becomes a URL segment)");
            }

            if (!names.Add(peer.Name))
            {
                fail(field + ".name", $"\"{peer.Name}\" is already a peer's name");
            }

            if (peer.Pins.Count == 0)
            {
                fail(field + ".pins", "name at least one pin of the peer's server key (`gatehouse pin ITS-SERVER.crt`)");
            }

            for (var j = 0; j < peer.Pins.Count; j++)
            {
                if (!KeyPin.IsWellFormed(peer.Pins[j]))
                {
                    fail($"{field}.pins[{j}]", "must look like sha256//<base64 of 32 bytes> (see `gatehouse pin CERT`)");
                }
            }

            if (peer.Addresses.Count == 0)
            {
                fail(field + ".addresses", "name at least one address, like \"192.0.2.7:8443\", \"[fe80::1%eth0]:8443\" or \"laptop.local:8443\"");
            }

            for (var j = 0; j < peer.Addresses.Count; j++)
            {
                try
                {
                    UpstreamAddress.Parse(peer.Addresses[j]);
                }
                catch (FormatException ex)
                {
                    fail($"{field}.addresses[{j}]", ex.Message);
                }
            }

            ValidateIdentity(config, peer, field, fail);
        }

        for (var i = 0; i < config.Rules.Count; i++)
        {
            var grants = config.Rules[i].Peers ?? [];
            for (var j = 0; j < grants.Count; j++)
            {
                if (grants[j] != "*" && !names.Contains(grants[j]))
                {
                    fail($"$.rules[{i}].peers[{j}]", $"no peer named \"{grants[j]}\" in $.peers (or use \"*\")");
                }
            }
        }

        for (var i = 0; i < config.Routes.Count; i++)
        {
            var prefix = RoutePrefix.Of(config.Routes[i]);
            if (prefix == "/" + PathSegment || prefix.StartsWith("/" + PathSegment + "/", StringComparison.Ordinal))
            {
                fail($"$.routes[{i}].prefix", $"/{PathSegment}/ is reserved for peer links");
            }
        }
    }

    private static void ValidateIdentity(GatehouseConfig config, PeerConfig peer, string field, Action<string, string> fail)
    {
        if (peer.Certificate is null != peer.Key is null)
        {
            fail(field, "give both certificate and key, or neither (then the server's own tls certificate and key are used)");
        }

        if (peer.Certificate is null && peer.Key is null && config.Tls is not { Certificate.Length: > 0, Key.Length: > 0 })
        {
            fail(field, "needs certificate and key: there is no tls.certificate and tls.key to present instead");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$", RegexOptions.CultureInvariant)]
    private static partial Regex PeerName();
}
