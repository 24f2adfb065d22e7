using System.Net;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// A TLS client that presents any key: openssl s_client at security level 0. SslStream's own client
/// refuses to use an RSA-1024 key or a SHA-1-signed chain (OpenSSL's "ee key too small", "ca md too
/// weak"), so without this the server would never see such certificates, which old clients do send.
/// </summary>
internal static class OpensslClient
{
    /// <summary>Connects with <paramref name="cert"/>, reads until the server closes; stdout and stderr together.</summary>
    public static string Exchange(IPEndPoint endpoint, X509Certificate2 cert, string protocol = "")
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("client.crt"), cert.ExportCertificatePem());
        File.WriteAllText(dir.File("client.key"), cert.GetECDsaPrivateKey()?.ExportPkcs8PrivateKeyPem() ?? cert.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        // s_client exits 1 when the handshake fails or the server closes without close_notify: the output says which.
        return Openssl.Shell(
            $"openssl s_client -connect 127.0.0.1:{endpoint.Port} {protocol} -cipher 'DEFAULT:@SECLEVEL=0' -cert client.crt -key client.key -ign_eof </dev/null 2>&1 || true",
            dir.Path);
    }
}
