namespace Gatehouse.Provenance;

/// <summary>
/// What a principal created and which of it another still-trusted principal also holds (issue 7).
/// A resource is shared when another trusted holder created or claimed the same one; a database
/// also when another trusted holder wrote a design document in it (it needs the database). Shared
/// resources are kept; the rest is what a revoke removes. Pure: the records in, the report out.
/// </summary>
internal static class GrantsPlan
{
    public static GrantsReport For(string principal, IReadOnlyList<ProvenanceRecord> records, TrustedHolders trust)
    {
        var mine = records.Where(r => r.Holder == principal).ToList();
        var others = records.Where(r => r.Holder != principal && trust.IsTrusted(r)).ToList();
        var report = new GrantsReport { Principal = principal, StillTrusted = trust.IsTrusted(principal, mine) };

        // Design documents first: an apply then removes them before the databases that hold them.
        foreach (var record in mine.OrderBy(r => r.Kind == ProvenanceRecord.DatabaseKind).ThenBy(r => r.Resource, StringComparer.Ordinal))
        {
            var holders = others
                .Where(other => !record.IsDeed && Needs(other, record))
                .Select(other => new GrantsHolder(other.Holder, other.Subject))
                .Distinct()
                .ToList();
            report.Resources.Add(new GrantsItem
            {
                Kind = record.Kind,
                Database = record.Database,
                DocId = record.DocId,
                How = record.How,
                At = record.At,
                AlsoHeldBy = holders,
                Action = record.Kind switch
                {
                    ProvenanceRecord.ReplicationKind => GrantsItem.EndsByItself,
                    ProvenanceRecord.DeletionKind => GrantsItem.Done,
                    _ => holders.Count > 0 ? GrantsItem.Keep : GrantsItem.Remove,
                },
            });
        }

        return report;
    }

    private static bool Needs(ProvenanceRecord other, ProvenanceRecord mine) =>
        (other.Kind == mine.Kind && other.Resource == mine.Resource)
        || (mine.Kind == ProvenanceRecord.DatabaseKind && other.Kind == ProvenanceRecord.DesignKind && other.Database == mine.Database);
}
