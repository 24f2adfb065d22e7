using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.Wire.Tests;

[Collection(PkiCollection.Name)]
public sealed class CertificateFactoryTests(TestPki pki)
{
    [Fact]
    public void CaHasBasicConstraintsAndKeyCertSign()
    {
        var constraints = Assert.IsType<X509BasicConstraintsExtension>(pki.Ca.Extensions["2.5.29.19"]);
        var usage = Assert.IsType<X509KeyUsageExtension>(pki.Ca.Extensions["2.5.29.15"]);

        Assert.True(constraints.CertificateAuthority);
        Assert.Equal(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, usage.KeyUsages);
        Assert.Equal("CN=user", pki.Ca.Subject);
        Assert.True(pki.Ca.HasPrivateKey);
        Assert.Equal("1.2.840.10045.2.1", pki.Ca.PublicKey.Oid.Value);
    }

    [Fact]
    public void ServerCertificateCarriesServerAuthAndNames()
    {
        var eku = Assert.IsType<X509EnhancedKeyUsageExtension>(pki.Server.Extensions["2.5.29.37"]);
        var names = Assert.IsType<X509SubjectAlternativeNameExtension>(pki.Server.Extensions["2.5.29.17"]);

        // serverAuth, and clientAuth for peer links (issue 8: the device key is its client identity too).
        Assert.Equal(["1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2"], eku.EnhancedKeyUsages.Cast<System.Security.Cryptography.Oid>().Select(o => o.Value));
        Assert.Equal(["localhost"], names.EnumerateDnsNames());
        Assert.Equal([IPAddress.Loopback, IPAddress.IPv6Loopback], names.EnumerateIPAddresses());
        Assert.Equal(pki.Ca.SubjectName.RawData, pki.Server.IssuerName.RawData);
        Assert.True(pki.Server.HasPrivateKey);
    }

    [Fact]
    public void SerialNumbersAreSixteenRandomPositiveBytes()
    {
        byte[] a = pki.CaClient.SerialNumberBytes.ToArray();
        byte[] b = pki.Denied.SerialNumberBytes.ToArray();

        Assert.Equal(16, a.Length);
        Assert.Equal(16, b.Length);
        Assert.True((pki.CaClient.GetSerialNumber()[^1] & 0x80) == 0, "serial must be positive");
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void RefusesToIssueBeyondTheCasValidity()
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;

        Assert.ThrowsAny<ArgumentException>(() => CertificateFactory.IssueClient(pki.Ca, "long", now, now.AddYears(5)));
    }
}
