using System.Text.Json;
using Gatehouse.Policy;
using Gatehouse.Routing;
using Gatehouse.Wire;

namespace Gatehouse.Config;

/// <summary>
/// Reads and validates a config file. Relative paths become relative to the file's folder.
/// Every error names the file and the JSON path of the field, so the user can fix it at once.
/// </summary>
public static class ConfigLoader
{
    private static readonly string[] CertificateModes = ["required", "optional", "none"];
    private static readonly string[] CouchGrants = ["pull", "push", "read", "write", "create", "design", "query", "delete", "maintain", "replicate"];
    private static readonly string[] FileGrants = ["read", "write", "delete"];

    public static GatehouseConfig Load(string path)
    {
        var fullPath = Path.GetFullPath(path);
        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"{path}: cannot read: {ex.Message}", ex);
        }

        return Parse(text, fullPath);
    }

    public static GatehouseConfig Parse(string json, string fullPath)
    {
        GatehouseConfig? config;
        try
        {
            config = JsonSerializer.Deserialize(json, ConfigJsonContext.Default.GatehouseConfig);
        }
        catch (JsonException ex)
        {
            throw new ConfigException($"{fullPath}: {ConfigJsonErrors.Explain(ex, ConfigJsonContext.Default.GatehouseConfig)}", ex);
        }

        if (config is null)
        {
            throw new ConfigException($"{fullPath}: expected a JSON object");
        }

        config.SourcePath = fullPath;

        var folder = Path.GetDirectoryName(fullPath) ?? ".";
        Validate(config, fullPath, folder);
        return config;
    }

    private static void Validate(GatehouseConfig config, string file, string folder)
    {
        void Fail(string field, string message) => throw new ConfigException($"{file}: {field}: {message}");

        if (config.Listen.Count == 0)
        {
            config.Listen.Add(new ListenConfig());
        }

        for (var i = 0; i < config.Listen.Count; i++)
        {
            var listen = config.Listen[i];
            var field = $"$.listen[{i}]";
            try
            {
                ListenEndpoint.ParseAddress(listen.Address);
            }
            catch (FormatException ex)
            {
                Fail(field + ".address", ex.Message);
            }

            if (listen.Port is < 0 or > 65535)
            {
                Fail(field + ".port", "must be 0..65535 (0 lets the system choose)");
            }

            if (!CertificateModes.Contains(listen.ClientCertificate))
            {
                Fail(field + ".clientCertificate", "must be \"required\", \"optional\" or \"none\"");
            }

            try
            {
                ToEndpoint(listen).Validate();
            }
            catch (InvalidOperationException ex)
            {
                Fail(field, ex.Message);
            }
        }

        if (config.Listen.Any(l => l.Tls))
        {
            if (config.Tls is null || config.Tls.Certificate.Length == 0 || config.Tls.Key.Length == 0)
            {
                Fail("$.tls", "a TLS listener needs tls.certificate and tls.key");
            }

            config.Tls!.Certificate = Resolve(folder, config.Tls.Certificate);
            config.Tls.Key = Resolve(folder, config.Tls.Key);
        }

        for (var i = 0; i < config.Trust.Cas.Count; i++)
        {
            var ca = config.Trust.Cas[i];
            if (ca.Name.Length == 0 || ca.Certificate.Length == 0)
            {
                Fail($"$.trust.cas[{i}]", "needs a name and a certificate");
            }

            ca.Certificate = Resolve(folder, ca.Certificate);
        }

        for (var i = 0; i < config.Trust.Pins.Count; i++)
        {
            if (!KeyPin.IsWellFormed(config.Trust.Pins[i].Pin))
            {
                Fail($"$.trust.pins[{i}].pin", "must look like sha256//<base64 of 32 bytes> (see `gatehouse pin CERT`)");
            }
        }

        for (var i = 0; i < config.Trust.Deny.Count; i++)
        {
            if (!KeyPin.IsWellFormed(config.Trust.Deny[i]))
            {
                Fail($"$.trust.deny[{i}]", "must look like sha256//<base64 of 32 bytes>");
            }
        }

        ValidateRoutes(config, folder, Fail);
        ValidateRules(config, Fail);
        Peers.PeerConfigRules.Validate(config, folder, Fail); // issue 8: peer table and rules' peers grants
        ValidateDiscovery(config, Fail);
        try
        {
            LimitsBinder.Apply(new Limits(), config.Limits);
        }
        catch (FormatException ex)
        {
            Fail("$.limits", ex.Message);
        }
    }

    private static void ValidateRoutes(GatehouseConfig config, string folder, Action<string, string> fail)
    {
        for (var i = 0; i < config.Routes.Count; i++)
        {
            var route = config.Routes[i];
            var field = $"$.routes[{i}]";
            if (Routing.RouteKinds.Parse(route.Kind) is null)
            {
                fail(field + ".kind", "must be one of " + string.Join(", ", Routing.RouteKinds.ConfigNames.Select(name => $"\"{name}\"")));
            }

            // match, stripPrefix, access, headers, tunnelIdleTimeout (issue 5); fills Prefix from match.
            RouteConfigRules.Validate(route, field, folder, fail);
            if (!route.Prefix.StartsWith('/') || route.Prefix.Contains("//", StringComparison.Ordinal) || route.Prefix.Contains("/./", StringComparison.Ordinal) || route.Prefix.Contains("/../", StringComparison.Ordinal))
            {
                fail(field + ".prefix", "must be a path like \"/files/\"");
            }

            if (route.Prefix.StartsWith("/_gatehouse", StringComparison.Ordinal))
            {
                fail(field + ".prefix", "/_gatehouse/ is reserved for the gateway");
            }

            if (route.Kind == "files")
            {
                if (route.Stores is not { Count: > 0 })
                {
                    fail(field + ".stores", "a files route needs at least one store folder");
                }

                route.Stores = [.. route.Stores!.Select(s => Resolve(folder, s))];
            }

            if (route.Provenance is { } provenance)
            {
                if (route.Kind != "couchdb")
                {
                    fail(field + ".provenance", "only a couchdb route records provenance");
                }

                if (!Proxy.CouchDatabaseName.IsValid(provenance.Database))
                {
                    fail(field + ".provenance.database", "not a CouchDB database name (lower-case letter first, then a-z 0-9 _$()+/-)");
                }

                if (provenance.Role.Length == 0)
                {
                    fail(field + ".provenance.role", "name the stdin couchdb.credentials role that writes the records");
                }
            }

            if (route.Kind == "proxy" && !Uri.TryCreate(route.Backend, UriKind.Absolute, out _))
            {
                fail(field + ".backend", "a proxy route needs a backend URL like http://127.0.0.1:4334 or unix:/path/to.sock");
            }
        }

        RouteConfigRules.ApplyUnrestrictedListeners(config, fail);
    }

    private static void ValidateDiscovery(GatehouseConfig config, Action<string, string> fail)
    {
        if (config.Discovery is not { } discovery)
        {
            return;
        }

        if (discovery.Name is { } name && !Discovery.DeviceName.IsValid(name))
        {
            fail("$.discovery.name", "use 1-63 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit");
        }

        for (var i = 0; i < discovery.Interfaces.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(discovery.Interfaces[i]) || discovery.Interfaces[i].Length > 64)
            {
                fail($"$.discovery.interfaces[{i}]", "name a network interface, like \"eth0\"");
            }
        }
    }

    private static void ValidateRules(GatehouseConfig config, Action<string, string> fail)
    {
        for (var i = 0; i < config.Rules.Count; i++)
        {
            var rule = config.Rules[i];
            var field = $"$.rules[{i}]";
            if (rule.Principals.Count == 0)
            {
                fail(field + ".principals", "name at least one principal");
            }

            for (var j = 0; j < rule.Principals.Count; j++)
            {
                if (!PrincipalSelector.IsValid(rule.Principals[j]))
                {
                    fail($"{field}.principals[{j}]", "use \"ca:NAME\", \"pinned:NAME\", \"sha256//…\", \"anonymous\", \"local\" or \"*\"");
                }
            }

            foreach (var grant in rule.Couchdb?.Allow ?? [])
            {
                if (!CouchGrants.Contains(grant))
                {
                    fail(field + ".couchdb.allow", $"unknown grant \"{grant}\" (pull, push, read, write, create, design)");
                }
            }

            foreach (var grant in rule.Files ?? [])
            {
                if (!FileGrants.Contains(grant))
                {
                    fail(field + ".files", $"unknown grant \"{grant}\" (read, write, delete)");
                }
            }

            if (rule.MaxUploadBytes is { } maxUpload)
            {
                if (maxUpload < 0)
                {
                    fail(field + ".maxUploadBytes", "must be 0 or more (bytes)");
                }

                // A limit on a rule that grants no upload would limit nothing: say so rather than ignore it.
                if (rule.Files?.Contains("write") != true)
                {
                    fail(field + ".maxUploadBytes", "limits file uploads, but this rule has no \"files\": [\"write\"] grant");
                }
            }
        }
    }

    internal static ListenEndpoint ToEndpoint(ListenConfig listen) => new()
    {
        Address = ListenEndpoint.ParseAddress(listen.Address),
        Port = listen.Port,
        Tls = listen.Tls,
        Local = listen.Local,
        ClientCertificate = listen.ClientCertificate switch
        {
            "optional" => ClientCertificateMode.Optional,
            "none" => ClientCertificateMode.None,
            _ => ClientCertificateMode.Required,
        },
    };

    private static string Resolve(string folder, string path) => Path.GetFullPath(Path.Combine(folder, path));
}
