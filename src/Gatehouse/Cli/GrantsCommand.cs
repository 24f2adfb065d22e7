using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Gatehouse.Config;
using Gatehouse.Provenance;
using Gatehouse.Wire;

namespace Gatehouse.Cli;

/// <summary>
/// <c>gatehouse grants show|revoke PIN</c> (issue 7): what a principal created through the gateway
/// (from the provenance database), which of it another still-trusted principal also holds, and —
/// for revoke, only with <c>--apply</c> — the clean-up: its unshared databases and design
/// documents removed, its <c>_replicator</c> documents deleted (which cancels their replications),
/// shared ones left alone, its records deleted. Reads the config for trust and
/// the provenance settings, and the stdin environment for the CouchDB URL and credential.
/// </summary>
internal static class GrantsCommand
{
    private const string StdinHelp = "Stdin: the environment JSON ({\"couchdb\":{\"url\":…,\"credentials\":{\"provenance\":{…}}}}), as serve --env-stdin reads it.";

    public static Command Create() => new("grants", "Who created what through the gateway: list a principal's databases and design documents, and clean up after it is revoked.")
    {
        Show(),
        Revoke(),
    };

    private static Command Show()
    {
        var (pin, config, role, json) = CommonOptions();
        var command = new Command("show", "List what PIN created or claimed and, for each, the other still-trusted principals that also hold it. " + StdinHelp) { pin, config, role, json };
        command.SetAction((result, cancellationToken) => RunAsync(
            new Invocation(result.GetValue(pin)!, result.GetValue(config)!.FullName, result.GetValue(role), result.GetValue(json), Revoke: false, Apply: false),
            cancellationToken));
        return command;
    }

    private static Command Revoke()
    {
        var (pin, config, role, json) = CommonOptions();
        var apply = new Option<bool>("--apply") { Description = "do the clean-up (default: print the plan and change nothing); PIN must no longer be trusted by the config" };
        var command = new Command("revoke", "Plan (and with --apply do) the clean-up after PIN: remove the databases and design documents no other still-trusted principal holds, keep shared ones, delete PIN's records. " + StdinHelp)
        {
            pin, config, role, json, apply,
        };
        command.SetAction((result, cancellationToken) => RunAsync(
            new Invocation(result.GetValue(pin)!, result.GetValue(config)!.FullName, result.GetValue(role), result.GetValue(json), Revoke: true, Apply: result.GetValue(apply)),
            cancellationToken));
        return command;
    }

    private static (Argument<string> Pin, Option<FileInfo> Config, Option<string?> Role, Option<bool> Json) CommonOptions() =>
    (
        new Argument<string>("PIN") { Description = "the principal: its key pin (sha256//…, as `gatehouse pin CERT` prints), or local / anonymous" },
        new Option<FileInfo>("--config", "-c") { Description = "the JSON config file (default: gatehouse.json here)", DefaultValueFactory = _ => new FileInfo("gatehouse.json") },
        new Option<string?>("--role") { Description = "the stdin credential to use (default: the couchdb route's provenance role, \"provenance\"); revoke --apply needs one that may delete databases" },
        new Option<bool>("--json") { Description = "print the report as JSON" }
    );

    private static async Task<int> RunAsync(Invocation call, CancellationToken cancellationToken)
    {
        try
        {
            if (!(KeyPin.IsWellFormed(call.Pin) || call.Pin is "local" or "anonymous"))
            {
                throw new ConfigException($"PIN \"{call.Pin}\": not a principal; give a key pin (sha256//…, as `gatehouse pin CERT` prints), local or anonymous");
            }

            var config = ConfigLoader.Load(call.ConfigPath);
            var route = config.Routes.FirstOrDefault(r => r.Kind == "couchdb")
                ?? throw new ConfigException($"{call.ConfigPath}: $.routes: no couchdb route, so the gateway recorded nothing");
            var settings = route.Provenance ?? new ProvenanceConfig();
            var environment = await StdinEnvironmentReader.ReadAsync(Console.OpenStandardInput(), TimeSpan.FromSeconds(30)).ConfigureAwait(false);
            var couchEnvironment = environment.Couchdb ?? throw new ConfigException("stdin: $.couchdb: the CouchDB URL and the provenance credential are needed");
            var role = call.Role ?? settings.Role;
            if (!couchEnvironment.Credentials.TryGetValue(role, out var credential))
            {
                throw new ConfigException($"stdin: $.couchdb.credentials: no credential for role \"{role}\"");
            }

            using var couch = new ProvenanceCouch(couchEnvironment, credential, settings.Database);
            var records = await couch.ReadAllAsync(cancellationToken).ConfigureAwait(false);
            var report = GrantsPlan.For(call.Pin, records, new TrustedHolders(config));
            if (call.Apply)
            {
                if (report.StillTrusted)
                {
                    throw new ConfigException($"{call.Pin} is still trusted by {call.ConfigPath} (pin whitelist or a user CA): add it to $.trust.deny (and reload) before removing what it created; nothing was changed");
                }

                await ApplyAsync(couch, call.Pin, records, report, cancellationToken).ConfigureAwait(false);
            }

            await Console.Out.WriteAsync(call.Json ? JsonSerializer.Serialize(report, ProvenanceJsonContext.Output.GrantsReport) + "\n" : Describe(report, call.Revoke)).ConfigureAwait(false);
            return ExitCodes.Ok;
        }
        catch (ConfigException ex)
        {
            await Console.Error.WriteLineAsync("gatehouse: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or JsonException)
        {
            await Console.Error.WriteLineAsync("gatehouse: CouchDB: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Failure;
        }
    }

    /// <summary>
    /// Removes what the plan marks, design documents before databases, then the principal's records
    /// (last, so a run cut short is simply run again: what is gone shows as already gone).
    /// </summary>
    private static async Task ApplyAsync(ProvenanceCouch couch, string pin, IReadOnlyList<ProvenanceRecord> records, GrantsReport report, CancellationToken cancellationToken)
    {
        foreach (var item in report.Resources.Where(item => item.Action == GrantsItem.Remove))
        {
            var removed = item.Kind == ProvenanceRecord.ReplicatorDocumentKind
                ? await couch.DeleteReplicatorDocumentAsync(item.DocId!, pin, cancellationToken).ConfigureAwait(false)
                : item.DocId is { } docId
                ? await couch.DeleteDesignAsync(item.Database, docId, cancellationToken).ConfigureAwait(false)
                : await couch.DeleteDatabaseAsync(item.Database, cancellationToken).ConfigureAwait(false);
            item.Action = removed ? GrantsItem.Removed : GrantsItem.AlreadyGone;
        }

        // Deletions and replications stay: the record of what the principal did outlives its trust.
        foreach (var record in records.Where(r => r.Holder == pin && !r.IsDeed))
        {
            await couch.RemoveRecordAsync(record, cancellationToken).ConfigureAwait(false);
        }

        report.Applied = true;
    }

    private static string Describe(GrantsReport report, bool revoke)
    {
        var text = new System.Text.StringBuilder();
        var trusted = report.StillTrusted ? "still trusted by the config" : "no longer trusted by the config";
        text.Append(CultureInfo.InvariantCulture, $"{report.Principal}: {report.Resources.Count} resource(s) created or claimed; {trusted}\n");
        foreach (var item in report.Resources)
        {
            var holders = item.AlsoHeldBy.Count == 0
                ? "held by no other trusted principal"
                : "also held by " + string.Join(", ", item.AlsoHeldBy.Select(h => h.Subject.Length > 0 ? $"{h.Holder} ({h.Subject})" : h.Holder));
            var action = revoke ? "  -> " + item.Action : string.Empty;
            text.Append(CultureInfo.InvariantCulture, $"  {item.Kind,-8} {item.Resource}  {item.How} {item.At:yyyy-MM-ddTHH:mm:ssZ}  {holders}{action}\n");
        }

        if (revoke)
        {
            var remove = report.Resources.Count(i => i.Action is GrantsItem.Remove or GrantsItem.Removed or GrantsItem.AlreadyGone);
            var keep = report.Resources.Count(i => i.Action == GrantsItem.Keep);
            text.Append(report.Applied
                ? $"applied: removed {remove} (of which {report.Resources.Count(i => i.Action == GrantsItem.AlreadyGone)} already gone), kept {keep} shared; {report.Principal}'s provenance records deleted\n"
                : $"dry run: would remove {remove}, keep {keep} shared; nothing changed (run with --apply to do it)\n");
            if (!report.Applied && report.StillTrusted)
            {
                text.Append("note: this principal is still trusted and could create again; add its pin to trust.deny (and reload) before --apply\n");
            }
        }

        return text.ToString();
    }

    private sealed record Invocation(string Pin, string ConfigPath, string? Role, bool Json, bool Revoke, bool Apply);
}
