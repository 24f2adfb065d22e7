// YARP-on-Kestrel peer for bench/compare: an HTTPS (HTTP/1.1, TLS 1.2+1.3) listener on
// 127.0.0.1:PORT with the same server certificate as Gatehouse, client certificates
// "optional" (AllowCertificate) or "required" (RequireCertificate) and checked against the
// user CA with a custom root trust (never the system store), like Gatehouse does.
// Routes: /api/** -> --backend, /feed/** -> --feed-backend, GET /ping -> "ok" (served locally).
// Prints {"ready":true,"port":N} on stdout when listening.
using System.Net;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Yarp.ReverseProxy.Configuration;

var opts = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i + 1 < args.Length; i += 2) opts[args[i].TrimStart('-')] = args[i + 1];
string Opt(string name, string fallback) => opts.TryGetValue(name, out var v) ? v : fallback;

var port = int.Parse(Opt("port", "0"), System.Globalization.CultureInfo.InvariantCulture);
var required = Opt("client-cert", "optional") == "required";
var serverCert = X509Certificate2.CreateFromPemFile(Opt("cert", "server.crt"), Opt("key", "server.key"));
// Kestrel on Linux wants a certificate whose private key is usable by SslStream: re-import as PKCS#12.
serverCert = X509CertificateLoader.LoadPkcs12(serverCert.Export(X509ContentType.Pkcs12), null);
var ca = X509CertificateLoader.LoadCertificateFromFile(Opt("ca", "ca.crt"));

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.WebHost.ConfigureKestrel(k =>
{
    k.AddServerHeader = false;
    k.Limits.MaxConcurrentConnections = null;
    k.Limits.KeepAliveTimeout = TimeSpan.FromSeconds(300);
    k.Listen(IPAddress.Loopback, port, listen =>
    {
        listen.Protocols = HttpProtocols.Http1;
        listen.UseHttps(new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serverCert,
            SslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
            ClientCertificateMode = required ? ClientCertificateMode.RequireCertificate : ClientCertificateMode.AllowCertificate,
            ClientCertificateValidation = (cert, _, _) =>
            {
                using var chain = new X509Chain();
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                return chain.Build(cert);
            },
        });
    });
});

var routes = new[]
{
    new RouteConfig { RouteId = "api", ClusterId = "api", Match = new RouteMatch { Path = "/api/{**rest}" } },
    new RouteConfig { RouteId = "feed", ClusterId = "feed", Match = new RouteMatch { Path = "/feed/{**rest}" } },
};
var clusters = new[]
{
    new ClusterConfig
    {
        ClusterId = "api",
        Destinations = new Dictionary<string, DestinationConfig> { ["d"] = new() { Address = Opt("backend", "http://127.0.0.1:8081/") } },
    },
    new ClusterConfig
    {
        ClusterId = "feed",
        Destinations = new Dictionary<string, DestinationConfig> { ["d"] = new() { Address = Opt("feed-backend", "http://127.0.0.1:8082/") } },
    },
};
builder.Services.AddReverseProxy().LoadFromMemory(routes, clusters);

var app = builder.Build();
app.MapGet("/ping", () => "ok");
app.MapReverseProxy();
await app.StartAsync();
Console.Out.WriteLine("{\"ready\":true,\"port\":" + port.ToString(System.Globalization.CultureInfo.InvariantCulture) + "}");
Console.Out.Flush();
await app.WaitForShutdownAsync();
