namespace Gatehouse.Config;

/// <summary>
/// One entry of the peer table (issue 8): another device's Gatehouse, trusted by its key pins
/// alone and reached at the first of its addresses that answers.
/// </summary>
public sealed class PeerConfig
{
    /// <summary>The name in <c>/_peers/NAME/</c> and in rules' <c>peers</c> grants.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The peer server's key pins (<c>sha256//…</c>); several during a key rotation.</summary>
    public List<string> Pins { get; set; } = [];

    /// <summary>"host:port", "192.0.2.7:8443", "[2001:db8::7]:8443", "[fe80::1%eth0]:8443"; tried in order.</summary>
    public List<string> Addresses { get; set; } = [];

    /// <summary>The certificate this device presents to the peer; default: the server's own <c>tls.certificate</c>.</summary>
    public string? Certificate { get; set; }

    /// <summary>Its key (encrypted with the stdin <c>keyPassphrase</c>, if at all); default: <c>tls.key</c>.</summary>
    public string? Key { get; set; }
}
