namespace Gatehouse.Provenance;

/// <summary>What <c>gatehouse grants show|revoke</c> prints (issue 7), as text or with <c>--json</c>.</summary>
internal sealed class GrantsReport
{
    public string Principal { get; set; } = string.Empty;

    /// <summary>The config still lets this principal in (a revoke then only plans).</summary>
    public bool StillTrusted { get; set; }

    /// <summary>Revoke with --apply: the clean-up was done, not just planned.</summary>
    public bool Applied { get; set; }

    public List<GrantsItem> Resources { get; set; } = [];
}

internal sealed class GrantsItem
{
    public const string Keep = "keep";
    public const string Remove = "remove";
    public const string Removed = "removed";
    public const string AlreadyGone = "already gone";

    /// <summary>A deletion the principal made: nothing to remove; listed so a person sees it.</summary>
    public const string Done = "nothing to remove";

    /// <summary>A POST /_replicate replication: one-shot (continuous ones are refused), so it ends by itself.</summary>
    public const string EndsByItself = "one-shot: ends by itself";

    public string Kind { get; set; } = string.Empty;

    public string Database { get; set; } = string.Empty;

    public string? DocId { get; set; }

    public string How { get; set; } = string.Empty;

    public DateTimeOffset At { get; set; }

    /// <summary>Other still-trusted principals that created or claimed it (or, for a database, hold a design document in it).</summary>
    public List<GrantsHolder> AlsoHeldBy { get; set; } = [];

    /// <summary><see cref="Keep"/> when shared, else <see cref="Remove"/>; after --apply <see cref="Removed"/> or <see cref="AlreadyGone"/>.</summary>
    public string Action { get; set; } = Remove;

    public string Resource => DocId is null ? Database : Database + "/" + DocId;
}

internal sealed record GrantsHolder(string Holder, string Subject);
