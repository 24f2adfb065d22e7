using Gatehouse.Config;

namespace Gatehouse.Provenance;

/// <summary>
/// Whether the holder of a provenance record is still trusted by a config (issue 7): not on
/// the deny list, and either its pin is on the whitelist or it came in through a user CA the
/// config still names. The local user counts while a local listener exists; anonymous while a
/// listener lets callers in without a certificate. Rules alone trust no one: TLS decides who gets in.
/// </summary>
internal sealed class TrustedHolders
{
    private readonly GatehouseConfig _config;

    public TrustedHolders(GatehouseConfig config)
    {
        _config = config;
    }

    public bool IsTrusted(ProvenanceRecord record) => record.Holder switch
    {
        "local" => _config.Listen.Any(listen => listen.Local),
        "anonymous" => _config.Listen.Any(listen => listen.ClientCertificate != "required"),
        var pin when _config.Trust.Deny.Contains(pin, StringComparer.Ordinal) => false,
        var pin when _config.Trust.Pins.Any(entry => string.Equals(entry.Pin, pin, StringComparison.Ordinal)) => true,
        _ => record.Trust == "ca" && _config.Trust.Cas.Any(ca => string.Equals(ca.Name, record.TrustName, StringComparison.Ordinal)),
    };

    /// <summary>True when <paramref name="holder"/> could still get in: whitelisted and not denied (its records may show CA trust too).</summary>
    public bool IsTrusted(string holder, IEnumerable<ProvenanceRecord> itsRecords) =>
        IsTrusted(new ProvenanceRecord { Holder = holder }) || itsRecords.Any(IsTrusted);
}
