using System.Security.Cryptography;
using System.Text;

namespace Gatehouse.Tests;

/// <summary>
/// Every secret the test fixtures hand to Gatehouse — key passphrases, Basic passwords, CouchDB
/// role and admin passwords, the proxy-authentication secret, cookie, bearer and <c>?token=</c>
/// values — in one place, so the log scan at the end of <c>make test</c> (tests/LogScan.Tests,
/// which compiles this file too) knows what must never appear in a log. Each value is distinctive:
/// a word a log message could contain by chance ("wrong", "first") would make the scan cry wolf.
/// </summary>
public static class TestSecrets
{
    public const string ProcessPassphrase = "correct horse battery staple";
    public const string FrontPassword = "correct horse battery staple";
    public const string ReloadPassphrase = "reload passphrase";
    public const string CaPassphrase = "ca passphrase";
    public const string CheckConfigPassphrase = "s3cret-words";
    public const string CouchDevicePassword = "device-secret-41c2";
    public const string CouchPeerPassword = "peer-secret-9b7e";
    public const string PeerLinkCouchPassword = "peer-link-secret-3c1d";
    public const string PouchAdminPassword = "admin-secret-7f3a";
    public const string ProxyAuthSecret = "proxy-secret-5e1f";
    public const string QueryToken = "s3cr3t-query-value";
    public const string LeakPassphrase = "leak-test-passphrase-5d21";
    public const string LeakDevicePassword = "leak-test-couch-device-8e04";
    public const string LeakBobPassword = "leak-test-bob-password-c7aa";
    public const string LeakWrongPassword = "leak-test-wrong-password-31f9";
    public const string LeakToken = "leak-test-token-value-0b6d";
    public const string LeakBearer = "leak-test-bearer-value-a4e8";
    public const string StolenCookie = "AuthSession=stolen";

    /// <summary>Each secret by name, plus the encoded forms a leak would take on the wire (Basic headers, proxy-auth tokens).</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> All { get; } =
    [
        new(nameof(ProcessPassphrase), ProcessPassphrase),
        new(nameof(ReloadPassphrase), ReloadPassphrase),
        new(nameof(CaPassphrase), CaPassphrase),
        new(nameof(CheckConfigPassphrase), CheckConfigPassphrase),
        new(nameof(CouchDevicePassword), CouchDevicePassword),
        new(nameof(CouchPeerPassword), CouchPeerPassword),
        new(nameof(PeerLinkCouchPassword), PeerLinkCouchPassword),
        new(nameof(PouchAdminPassword), PouchAdminPassword),
        new(nameof(ProxyAuthSecret), ProxyAuthSecret),
        new(nameof(QueryToken), QueryToken),
        new(nameof(LeakPassphrase), LeakPassphrase),
        new(nameof(LeakDevicePassword), LeakDevicePassword),
        new(nameof(LeakBobPassword), LeakBobPassword),
        new(nameof(LeakWrongPassword), LeakWrongPassword),
        new(nameof(LeakToken), LeakToken),
        new(nameof(LeakBearer), LeakBearer),
        new(nameof(StolenCookie), StolenCookie),
        Basic("alice", FrontPassword),
        Basic("bob", LeakBobPassword),
        Basic("bob", LeakWrongPassword),
        Basic("admin", PouchAdminPassword),
        Basic("device", CouchDevicePassword),
        Basic("device", LeakDevicePassword),
        Basic("peer", CouchPeerPassword),
        Basic("peer", PeerLinkCouchPassword),
        new("ProxyAuthToken(device)", Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(ProxyAuthSecret), "device"u8))),
    ];

    private static KeyValuePair<string, string> Basic(string user, string password) =>
        new($"Basic({user}:…)", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));
}
