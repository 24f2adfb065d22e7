using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire;

/// <summary>
/// Makes the certificates a gate needs: a user CA, server and client certificates it issues, and
/// self-signed client keys for the whitelist. Used by <c>gatehouse init</c> and by every test suite.
/// Keys are ECDSA P-256 signed with SHA-256. Every certificate is returned with its private key,
/// usable directly in SslStream.
/// </summary>
public static class CertificateFactory
{
    /// <summary>Default validity of a CA made without explicit dates.</summary>
    public static TimeSpan DefaultCaValidity { get; } = TimeSpan.FromDays(3650);

    /// <summary>Default validity of an issued or self-signed leaf made without explicit dates.</summary>
    public static TimeSpan DefaultLeafValidity { get; } = TimeSpan.FromDays(825);

    /// <summary>Backdating of the convenience overloads, so a peer whose clock is a little behind still accepts.</summary>
    private static readonly TimeSpan s_backdate = TimeSpan.FromHours(1);

    /// <summary>A user CA: basicConstraints cA=TRUE, keyUsage keyCertSign|cRLSign, subject CN=<paramref name="name"/>.</summary>
    public static X509Certificate2 CreateCertificateAuthority(string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using ECDsa key = NewKey();
        CertificateRequest request = NewRequest(name, key);
        // RFC 5280 §4.2.1.9 and §4.2.1.3: both critical on a CA.
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));

        // CreateSelfSigned picks an 8-byte serial; re-sign with a 16-byte random one for uniformity.
        using X509Certificate2 signed = request.Create(request.SubjectName, X509SignatureGenerator.CreateForECDsa(key), notBefore, notAfter, NewSerialNumber());
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(key);
        return CertificateKeys.MakeUsableForTls(withKey);
    }

    /// <summary>A CA valid from an hour ago for ten years.</summary>
    public static X509Certificate2 CreateCertificateAuthority(string name)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        return CreateCertificateAuthority(name, now - s_backdate, now + DefaultCaValidity);
    }

    /// <summary>A server (device) certificate issued by <paramref name="ca"/>: EKU serverAuth and clientAuth, the given DNS names and addresses as SANs.</summary>
    /// <exception cref="ArgumentException">The validity falls outside the CA's, or the CA has no private key.</exception>
    public static X509Certificate2 IssueServer(X509Certificate2 ca, string name, IEnumerable<string> dnsNames, IEnumerable<IPAddress> ips, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        ArgumentNullException.ThrowIfNull(dnsNames);
        ArgumentNullException.ThrowIfNull(ips);

        var names = new SubjectAlternativeNameBuilder();
        foreach (string dns in dnsNames)
        {
            names.AddDnsName(dns);
        }

        foreach (IPAddress ip in ips)
        {
            names.AddIpAddress(ip);
        }

        // Both usages: a device's certificate is also its client identity on peer links (issue 8),
        // and a peer Gatehouse refuses a client key whose EKU lacks clientAuth (RFC 5280 §4.2.1.12).
        return Issue(ca, name, [Oids.ServerAuth, Oids.ClientAuth], names.Build(), notBefore, notAfter);
    }

    /// <summary>A server certificate valid from an hour ago for 825 days, or until the CA expires if sooner.</summary>
    public static X509Certificate2 IssueServer(X509Certificate2 ca, string name, IEnumerable<string> dnsNames, IEnumerable<IPAddress> ips)
    {
        ArgumentNullException.ThrowIfNull(ca);
        (DateTimeOffset notBefore, DateTimeOffset notAfter) = DefaultValidity(ca);
        return IssueServer(ca, name, dnsNames, ips, notBefore, notAfter);
    }

    /// <summary>A client certificate issued by <paramref name="ca"/>: EKU clientAuth, subject CN=<paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The validity falls outside the CA's, or the CA has no private key.</exception>
    public static X509Certificate2 IssueClient(X509Certificate2 ca, string name, DateTimeOffset notBefore, DateTimeOffset notAfter) =>
        Issue(ca, name, [Oids.ClientAuth], subjectAlternativeNames: null, notBefore, notAfter);

    /// <summary>A client certificate valid from an hour ago for 825 days, or until the CA expires if sooner.</summary>
    public static X509Certificate2 IssueClient(X509Certificate2 ca, string name)
    {
        ArgumentNullException.ThrowIfNull(ca);
        (DateTimeOffset notBefore, DateTimeOffset notAfter) = DefaultValidity(ca);
        return IssueClient(ca, name, notBefore, notAfter);
    }

    /// <summary>A self-signed client certificate (EKU clientAuth) for a key that is trusted by its pin.</summary>
    public static X509Certificate2 CreateSelfSignedClient(string name, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using ECDsa key = NewKey();
        CertificateRequest request = NewRequest(name, key);
        AddLeafExtensions(request, [Oids.ClientAuth]);
        using X509Certificate2 signed = request.Create(request.SubjectName, X509SignatureGenerator.CreateForECDsa(key), notBefore, notAfter, NewSerialNumber());
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(key);
        return CertificateKeys.MakeUsableForTls(withKey);
    }

    /// <summary>A self-signed client certificate valid from an hour ago for 825 days.</summary>
    public static X509Certificate2 CreateSelfSignedClient(string name)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        return CreateSelfSignedClient(name, now - s_backdate, now + DefaultLeafValidity);
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string name, string[] usages, X509Extension? subjectAlternativeNames, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        ArgumentNullException.ThrowIfNull(ca);
        if (!ca.HasPrivateKey)
        {
            throw new ArgumentException("the CA certificate has no private key to sign with", nameof(ca));
        }

        using ECDsa key = NewKey();
        CertificateRequest request = NewRequest(name, key);
        AddLeafExtensions(request, usages);
        if (subjectAlternativeNames is not null)
        {
            request.CertificateExtensions.Add(subjectAlternativeNames);
        }

        // RFC 5280 §4.2.1.1: the authority key identifier lets verifiers pick the right CA when several share a name.
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));

        // Create(X509Certificate2 issuer, ...) throws if the validity is not inside the CA's: a leaf that
        // outlives its CA would be refused by every verifier anyway.
        using X509Certificate2 signed = request.Create(ca, notBefore, notAfter, NewSerialNumber());
        using X509Certificate2 withKey = signed.CopyWithPrivateKey(key);
        return CertificateKeys.MakeUsableForTls(withKey);
    }

    private static void AddLeafExtensions(CertificateRequest request, string[] usages)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        // ECDSA keys in TLS only sign (RFC 8446 §4.4.3), so digitalSignature is the only key usage.
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        var ekus = new OidCollection();
        foreach (string usage in usages)
        {
            ekus.Add(new Oid(usage));
        }

        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(ekus, false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
    }

    private static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private static CertificateRequest NewRequest(string name, ECDsa key)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(name);
        return new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256);
    }

    /// <summary>RFC 5280 §4.1.2.2: a positive integer of at most 20 octets; 16 random bytes (CA/B BR §7.1 asks for 64 bits of entropy).</summary>
    private static byte[] NewSerialNumber()
    {
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        // Clear the sign bit so the DER INTEGER is positive, and set the next one so it keeps all 16 octets.
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return serial;
    }

    private static (DateTimeOffset NotBefore, DateTimeOffset NotAfter) DefaultValidity(X509Certificate2 ca)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        DateTimeOffset caNotBefore = new(ca.NotBefore.ToUniversalTime());
        DateTimeOffset caNotAfter = new(ca.NotAfter.ToUniversalTime());
        DateTimeOffset notBefore = Max(now - s_backdate, caNotBefore);
        DateTimeOffset notAfter = Min(now + DefaultLeafValidity, caNotAfter);
        return (notBefore, notAfter);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;
}
