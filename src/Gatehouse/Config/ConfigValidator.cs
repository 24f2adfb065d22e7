using Gatehouse.Wire;

namespace Gatehouse.Config;

/// <summary>
/// Checks a config as written and returns what is wrong, in file order; changes nothing (issue 20
/// item 4). Defaults and resolved paths are the runtime model's business
/// (<see cref="Model.CompiledConfig"/>). Relative paths are checked against the folder of
/// <see cref="GatehouseConfig.SourcePath"/>.
/// </summary>
public static class ConfigValidator
{
    private static readonly string[] CertificateModes = ["required", "optional", "none"];
    private static readonly string[] CouchGrants = ["pull", "push", "read", "write", "create", "design", "query", "delete", "maintain", "replicate"];
    private static readonly string[] FileGrants = ["read", "write", "delete"];

    public static IReadOnlyList<ConfigError> Validate(GatehouseConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var errors = new List<ConfigError>();
        void Fail(string field, string message) => errors.Add(new ConfigError(field, message));

        var folder = FolderOf(config);
        ValidateListeners(config, Fail);
        if (config.Listen.Count == 0 || config.Listen.Any(l => l.Tls)) // no listener: the default one is TLS
        {
            if (config.Tls is null || config.Tls.Certificate.Length == 0 || config.Tls.Key.Length == 0)
            {
                Fail("$.tls", "a TLS listener needs tls.certificate and tls.key");
            }
        }

        ValidateTrust(config, Fail);
        ValidateRoutes(config, folder, Fail);
        ValidateRules(config, Fail);
        PeerConfigRules.Validate(config, Fail); // issue 8: peer table and rules' peers grants
        ValidateDiscovery(config, Fail);
        try
        {
            LimitsBinder.Apply(config.Limits);
        }
        catch (FormatException ex)
        {
            Fail("$.limits", ex.Message);
        }

        return errors;
    }

    /// <summary>The folder relative paths in <paramref name="config"/> are relative to; the working folder for a config built in code.</summary>
    public static string FolderOf(GatehouseConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config.SourcePath.Length > 0 ? Path.GetDirectoryName(config.SourcePath) ?? "." : ".";
    }

    private static void ValidateListeners(GatehouseConfig config, Action<string, string> fail)
    {
        for (var i = 0; i < config.Listen.Count; i++)
        {
            var listen = config.Listen[i];
            var field = $"$.listen[{i}]";
            var addressOk = true;
            try
            {
                ListenEndpoint.ParseAddress(listen.Address);
            }
            catch (FormatException ex)
            {
                fail(field + ".address", ex.Message);
                addressOk = false;
            }

            if (listen.Port is < 0 or > 65535)
            {
                fail(field + ".port", "must be 0..65535 (0 lets the system choose)");
            }

            if (!CertificateModes.Contains(listen.ClientCertificate))
            {
                fail(field + ".clientCertificate", "must be \"required\", \"optional\" or \"none\"");
            }

            try
            {
                if (addressOk)
                {
                    ConfigLoader.ToEndpoint(listen).Validate();
                }
            }
            catch (InvalidOperationException ex)
            {
                fail(field, ex.Message);
            }
        }
    }

    private static void ValidateTrust(GatehouseConfig config, Action<string, string> fail)
    {
        for (var i = 0; i < config.Trust.Cas.Count; i++)
        {
            var ca = config.Trust.Cas[i];
            if (ca.Name.Length == 0 || ca.Certificate.Length == 0)
            {
                fail($"$.trust.cas[{i}]", "needs a name and a certificate");
            }
        }

        for (var i = 0; i < config.Trust.Pins.Count; i++)
        {
            if (!KeyPin.IsWellFormed(config.Trust.Pins[i].Pin))
            {
                fail($"$.trust.pins[{i}].pin", "must look like sha256//<base64 of 32 bytes> (see `gatehouse pin CERT`)");
            }
        }

        for (var i = 0; i < config.Trust.Deny.Count; i++)
        {
            if (!KeyPin.IsWellFormed(config.Trust.Deny[i]))
            {
                fail($"$.trust.deny[{i}]", "must look like sha256//<base64 of 32 bytes>");
            }
        }
    }

    private static void ValidateRoutes(GatehouseConfig config, string folder, Action<string, string> fail)
    {
        for (var i = 0; i < config.Routes.Count; i++)
        {
            var route = config.Routes[i];
            var field = $"$.routes[{i}]";
            if (RouteKindNames.Parse(route.Kind) is null)
            {
                fail(field + ".kind", "must be one of " + string.Join(", ", RouteKindNames.ConfigNames.Select(name => $"\"{name}\"")));
            }

            // match, stripPrefix, access, headers, tunnelIdleTimeout (issue 5).
            RouteConfigRules.Validate(route, field, folder, fail);
            var prefix = RoutePrefix.Of(route);
            if (!prefix.StartsWith('/') || prefix.Contains("//", StringComparison.Ordinal) || prefix.Contains("/./", StringComparison.Ordinal) || prefix.Contains("/../", StringComparison.Ordinal))
            {
                fail(field + ".prefix", "must be a path like \"/files/\"");
            }

            if (prefix.StartsWith("/_gatehouse", StringComparison.Ordinal))
            {
                fail(field + ".prefix", "/_gatehouse/ is reserved for the gateway");
            }

            if (route.Kind == "files" && route.Stores is not { Count: > 0 })
            {
                fail(field + ".stores", "a files route needs at least one store folder");
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

        RouteConfigRules.ValidateUnrestrictedListeners(config, fail);
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
                if (!PrincipalSelectorSyntax.IsValid(rule.Principals[j]))
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
}
