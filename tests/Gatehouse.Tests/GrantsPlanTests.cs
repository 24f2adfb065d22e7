using Gatehouse.Config;
using Gatehouse.Provenance;

namespace Gatehouse.Tests;

/// <summary>Who still counts as holding a resource (issue 7): the trust rules of <see cref="TrustedHolders"/> behind <see cref="GrantsPlan"/>.</summary>
public sealed class GrantsPlanTests
{
    private const string Revoked = "sha256//revokedrevokedrevokedrevokedrevokedrevo=";
    private const string Pinned = "sha256//pinnedpinnedpinnedpinnedpinnedpinnedpi=";
    private const string Issued = "sha256//issuedissuedissuedissuedissuedissuedis=";

    private static GatehouseConfig Config(bool caStillThere = true, bool localListener = false, params string[] denied) => new()
    {
        Listen = [new ListenConfig { Address = "127.0.0.1", Tls = !localListener, Local = localListener }],
        Trust = new TrustConfig
        {
            Cas = caStillThere ? [new CaConfig { Name = "user", Certificate = "ca.crt" }] : [],
            Pins = [new PinConfig { Name = "pinned", Pin = Pinned }],
            Deny = [.. denied],
        },
    };

    private static ProvenanceRecord Db(string holder, string database, string trust = "pin", string trustName = "pinned") =>
        new() { Holder = holder, Kind = ProvenanceRecord.DatabaseKind, Database = database, Trust = trust, TrustName = trustName };

    [Fact]
    public void AClaimByAPrincipalOfARemovedCaDoesNotKeepTheResource()
    {
        ProvenanceRecord[] records = [Db(Revoked, "x"), Db(Issued, "x", "ca", "user")];

        var kept = GrantsPlan.For(Revoked, records, new TrustedHolders(Config(caStillThere: true)));
        var removed = GrantsPlan.For(Revoked, records, new TrustedHolders(Config(caStillThere: false)));

        Assert.Equal(GrantsItem.Keep, Assert.Single(kept.Resources).Action);
        Assert.Equal(GrantsItem.Remove, Assert.Single(removed.Resources).Action);
    }

    [Fact]
    public void TheDenyListOverridesTheWhitelistAndTheCa()
    {
        ProvenanceRecord[] records = [Db(Revoked, "x"), Db(Pinned, "x"), Db(Revoked, "y"), Db(Issued, "y", "ca", "user")];

        var report = GrantsPlan.For(Revoked, records, new TrustedHolders(Config(true, false, Pinned, Issued)));

        Assert.All(report.Resources, item => Assert.Equal(GrantsItem.Remove, item.Action));
    }

    [Fact]
    public void ReplicationsAndDeletionsAreListedButNeverRemoveADatabase()
    {
        ProvenanceRecord[] records =
        [
            new() { Holder = Revoked, Kind = ProvenanceRecord.ReplicationKind, Database = "copy-0", DocId = "from media-0" },
            new() { Holder = Revoked, Kind = ProvenanceRecord.DeletionKind, Database = "media-0" },
            Db(Revoked, "media-0"),
            Db(Pinned, "copy-0"),
        ];

        var report = GrantsPlan.For(Revoked, records, new TrustedHolders(Config()));

        Assert.Equal(GrantsItem.EndsByItself, report.Resources.Single(item => item.Kind == ProvenanceRecord.ReplicationKind).Action);
        Assert.Equal(GrantsItem.Done, report.Resources.Single(item => item.Kind == ProvenanceRecord.DeletionKind).Action);
        Assert.Equal(GrantsItem.Remove, report.Resources.Single(item => item.Kind == ProvenanceRecord.DatabaseKind).Action);
    }

    [Fact]
    public void ADesignDocumentOfAnotherKeepsItsDatabaseButNotTheOtherWayRound()
    {
        ProvenanceRecord[] records =
        [
            Db(Revoked, "x"),
            new() { Holder = Pinned, Kind = ProvenanceRecord.DesignKind, Database = "x", DocId = "_design/app", Trust = "pin", TrustName = "pinned" },
            Db(Pinned, "y"),
            new() { Holder = Revoked, Kind = ProvenanceRecord.DesignKind, Database = "y", DocId = "_design/mine" },
        ];

        var report = GrantsPlan.For(Revoked, records, new TrustedHolders(Config()));

        Assert.Equal(["y/_design/mine", "x"], report.Resources.Select(r => r.Resource));
        Assert.Equal([GrantsItem.Remove, GrantsItem.Keep], report.Resources.Select(r => r.Action));
    }

    [Fact]
    public void TheLocalUserCountsWhileALocalListenerExists()
    {
        ProvenanceRecord[] records = [Db(Revoked, "x"), Db("local", "x", "local", "local")];

        Assert.Equal(GrantsItem.Keep, GrantsPlan.For(Revoked, records, new TrustedHolders(Config(localListener: true))).Resources[0].Action);
        Assert.Equal(GrantsItem.Remove, GrantsPlan.For(Revoked, records, new TrustedHolders(Config(localListener: false))).Resources[0].Action);
    }

    [Fact]
    public void ARevokedPrincipalIsStillTrustedWhileItsPinIsWhitelisted()
    {
        ProvenanceRecord[] records = [Db(Pinned, "x")];

        Assert.True(GrantsPlan.For(Pinned, records, new TrustedHolders(Config())).StillTrusted);
        Assert.False(GrantsPlan.For(Pinned, records, new TrustedHolders(Config(true, false, Pinned))).StillTrusted);
    }
}
