using System.Net;
using System.Net.Security;
using System.Reflection;
using System.Security.Cryptography.X509Certificates;

namespace Gatehouse.Wire.Tests;

/// <summary>
/// An admitted connection keeps its client certificate while open (a reload judges the key again),
/// so what the judging read must not stay cached on that object (issue 22: ~2.6 KiB per idle mutual-TLS
/// connection). The principal is the same as ever.
/// </summary>
[Collection(PkiCollection.Name)]
public sealed class KeptCertificateTests(TestPki pki)
{
    // X509Certificate2's caches of what ClientTrust reads (dotnet/runtime, X509Certificate2.cs).
    private static readonly string[] CachedByReading = ["_lazyPublicKey", "_lazyExtensions"];

    [Fact]
    public async Task TheKeptCertificateHoldsNothingTheJudgingRead()
    {
        var seen = new TaskCompletionSource<(string Pin, bool IsTheStreams, string[] Cached)>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using Harness h = Harness.Tls(pki, IPAddress.Loopback, handler: async (connection, stopping) =>
        {
            X509Certificate2 kept = connection.ClientCertificate!;
            string[] cached = CachedByReading.Where(name => Field(name).GetValue(kept) is not null).ToArray();
            seen.TrySetResult((connection.Principal.Pin, ReferenceEquals(kept, ((SslStream)connection.Stream).RemoteCertificate), cached));
            await connection.Stream.WriteAsync("ok\n"u8.ToArray(), stopping);
            await connection.Stream.FlushAsync(stopping);
        });

        Assert.Equal("ok", await TlsClient.ReadLineAsync(h.Endpoint(), pki.CaClient, h.ServerPin));
        (string pin, bool isTheStreams, string[] cached) = await seen.Task.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(KeyPin.Compute(pki.CaClient), pin);
        Assert.True(isTheStreams); // no second object kept either
        Assert.Empty(cached);
    }

    private static FieldInfo Field(string name) =>
        typeof(X509Certificate2).GetField(name, BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException($"X509Certificate2.{name} not found: the runtime changed; update this test");
}
