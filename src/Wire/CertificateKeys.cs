using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire;

/// <summary>Helpers for certificates that carry their private key.</summary>
internal static class CertificateKeys
{
    /// <summary>
    /// Returns a copy whose private key SslStream can use. A key attached with CopyWithPrivateKey is
    /// "ephemeral"; a PKCS#12 round trip gives the certificate a key in the form every platform's
    /// TLS stack accepts (dotnet/runtime#23749). The caller still owns <paramref name="certificate"/>.
    /// </summary>
    public static X509Certificate2 MakeUsableForTls(X509Certificate2 certificate)
    {
        byte[] pkcs12 = certificate.Export(X509ContentType.Pkcs12);
        try
        {
            return X509CertificateLoader.LoadPkcs12(pkcs12, null);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(pkcs12);
        }
    }
}
