namespace Gatehouse.Wire;

/// <summary>Object identifiers of the X.509 extensions we read or write (RFC 5280 §4.2.1).</summary>
internal static class Oids
{
    public const string BasicConstraints = "2.5.29.19";
    public const string EnhancedKeyUsage = "2.5.29.37";
    public const string AnyExtendedKeyUsage = "2.5.29.37.0";
    public const string ServerAuth = "1.3.6.1.5.5.7.3.1";
    public const string ClientAuth = "1.3.6.1.5.5.7.3.2";
    public const string EcPublicKey = "1.2.840.10045.2.1";
    public const string RsaEncryption = "1.2.840.113549.1.1.1";
    public const string RsaPss = "1.2.840.113549.1.1.10";
    public const string Ed25519 = "1.3.101.112";
    public const string Ed448 = "1.3.101.113";
}
