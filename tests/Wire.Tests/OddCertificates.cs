using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// Client certificates CertificateFactory would never make (a CA flag, small keys, SHA-1, odd EKUs),
/// as other tools and old devices do; each comes with its private key, usable in SslStream.
/// </summary>
internal static class OddCertificates
{
    /// <summary>How a certificate differs from the factory's: everything left at its default is as the factory makes it.</summary>
    public sealed record Shape
    {
        public bool IsCa { get; init; }

        /// <summary>The EKU OIDs; null leaves the extension out.</summary>
        public string[]? Usages { get; init; } = [Oids.ClientAuth];

        public HashAlgorithmName Hash { get; init; } = HashAlgorithmName.SHA256;
    }

    public static AsymmetricAlgorithm Rsa(int bits) => RSA.Create(bits);

    public static AsymmetricAlgorithm Ec(string curve) => ECDsa.Create(ECCurve.CreateFromFriendlyName(curve));

    /// <summary>A certificate for <paramref name="key"/> (which it takes) issued by <paramref name="ca"/>.</summary>
    public static X509Certificate2 Issued(X509Certificate2 ca, string name, AsymmetricAlgorithm key, Shape shape)
    {
        using (key)
        {
            CertificateRequest request = Request(name, key, shape);
            request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
            using X509Certificate2 signed = request.Create(ca.SubjectName, Signer(ca), DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1), Serial());
            return WithKey(signed, key);
        }
    }

    /// <summary>A self-signed certificate for <paramref name="key"/> (which it takes), as one pins it.</summary>
    public static X509Certificate2 SelfSigned(string name, AsymmetricAlgorithm key, Shape shape)
    {
        using (key)
        {
            CertificateRequest request = Request(name, key, shape);
            using X509Certificate2 signed = request.Create(request.SubjectName, Signer(key), DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1), Serial());
            return WithKey(signed, key);
        }
    }

    /// <summary>
    /// A P-256 certificate signed with ecdsa-with-SHA1 by <paramref name="ca"/>, or else by itself: a
    /// client's, or an intermediate CA's when <paramref name="isCa"/>. CertificateRequest will not sign
    /// with SHA-1 ("'SHA1' is not a known hash algorithm"); openssl will.
    /// </summary>
    public static X509Certificate2 Sha1Signed(X509Certificate2? ca, bool isCa = false)
    {
        using var dir = new TempDir();
        string[] extensions = isCa ? ["basicConstraints=critical,CA:TRUE", "keyUsage=critical,keyCertSign"] : ["basicConstraints=critical,CA:FALSE", "extendedKeyUsage=clientAuth"];
        File.WriteAllLines(dir.File("ext.cnf"), extensions);
        string newKey = "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout k.pem -subj /CN=sha1";
        if (ca is null)
        {
            Openssl.Shell($"{newKey} -x509 -sha1 -days 1 {string.Join(' ', extensions.Select(e => "-addext " + e))} -out c.pem", dir.Path);
        }
        else
        {
            File.WriteAllText(dir.File("ca.pem"), ca.ExportCertificatePem());
            File.WriteAllText(dir.File("ca.key"), ca.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem());
            Openssl.Shell($"{newKey} -out r.csr && openssl x509 -req -in r.csr -CA ca.pem -CAkey ca.key -sha1 -days 1 -extfile ext.cnf -out c.pem", dir.Path);
        }

        using X509Certificate2 loaded = X509Certificate2.CreateFromPemFile(dir.File("c.pem"), dir.File("k.pem"));
        return CertificateKeys.MakeUsableForTls(loaded);
    }

    private static CertificateRequest Request(string name, AsymmetricAlgorithm key, Shape shape)
    {
        CertificateRequest request = key switch
        {
            RSA rsa => new CertificateRequest("CN=" + name, rsa, shape.Hash, RSASignaturePadding.Pkcs1),
            ECDsa ec => new CertificateRequest("CN=" + name, ec, shape.Hash),
            _ => throw new ArgumentException("RSA or ECDSA only", nameof(key)),
        };
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(shape.IsCa, false, 0, true));
        if (shape.Usages is { } usages)
        {
            var oids = new OidCollection();
            foreach (string usage in usages)
            {
                oids.Add(new Oid(usage));
            }

            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, false));
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return request;
    }

    private static X509SignatureGenerator Signer(X509Certificate2 ca) =>
        ca.GetECDsaPrivateKey() is { } ec ? X509SignatureGenerator.CreateForECDsa(ec) : X509SignatureGenerator.CreateForRSA(ca.GetRSAPrivateKey()!, RSASignaturePadding.Pkcs1);

    private static X509SignatureGenerator Signer(AsymmetricAlgorithm key) => key switch
    {
        RSA rsa => X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1),
        _ => X509SignatureGenerator.CreateForECDsa((ECDsa)key),
    };

    private static X509Certificate2 WithKey(X509Certificate2 signed, AsymmetricAlgorithm key)
    {
        using X509Certificate2 withKey = key switch
        {
            RSA rsa => signed.CopyWithPrivateKey(rsa),
            _ => signed.CopyWithPrivateKey((ECDsa)key),
        };
        return CertificateKeys.MakeUsableForTls(withKey);
    }

    private static byte[] Serial()
    {
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F;
        return serial;
    }
}
