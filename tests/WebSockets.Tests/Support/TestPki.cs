using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gatehouse.Wire;

namespace Gatehouse.WebSockets.Tests.Support;

/// <summary>A user CA, the gate's identity, a trusted client, a stranger, and PEM copies for the Node peers.</summary>
public sealed class TestPki : IDisposable
{
    public TestPki()
    {
        var now = DateTimeOffset.UtcNow;
        Ca = CertificateFactory.CreateCertificateAuthority("user", now.AddDays(-1), now.AddYears(1));
        Server = CertificateFactory.IssueServer(Ca, "gate", ["localhost"], [IPAddress.Loopback, IPAddress.IPv6Loopback]);
        Identity = new ServerIdentity(Server);
        Client = CertificateFactory.IssueClient(Ca, "laptop");
        Stranger = CertificateFactory.CreateSelfSignedClient("intruder");
        Folder = Directory.CreateTempSubdirectory("gatehouse-ws-").FullName;
        ClientCertPath = WritePem("client", Client);
        ServerCertPath = WritePem("server", Server);
    }

    public X509Certificate2 Ca { get; }

    public X509Certificate2 Server { get; }

    public ServerIdentity Identity { get; }

    public X509Certificate2 Client { get; }

    public X509Certificate2 Stranger { get; }

    public string Folder { get; }

    public string ClientCertPath { get; }

    public string ClientKeyPath => Path.ChangeExtension(ClientCertPath, ".key");

    public string ServerCertPath { get; }

    public string ServerKeyPath => Path.ChangeExtension(ServerCertPath, ".key");

    public ClientTrust Trust() => new([new TrustedCa("user", Ca)], [], []);

    public void Dispose()
    {
        foreach (var cert in new[] { Ca, Server, Client, Stranger })
        {
            cert.Dispose();
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // a leftover temp folder is harmless
        }
    }

    private string WritePem(string name, X509Certificate2 certificate)
    {
        var certPath = Path.Combine(Folder, name + ".crt");
        PemFiles.WriteCertificate(certPath, certificate);
        using ECDsa key = certificate.GetECDsaPrivateKey()!;
        PemFiles.WritePrivateKey(Path.Combine(Folder, name + ".key"), key, ReadOnlySpan<char>.Empty);
        return certPath;
    }
}
