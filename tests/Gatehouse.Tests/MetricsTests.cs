using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net.Security;
using System.Net.Sockets;
using Gatehouse.Http1;
using Gatehouse.Wire;

namespace Gatehouse.Tests;

/// <summary>The System.Diagnostics.Metrics instruments that dotnet-counters reads move with real traffic.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task RequestsHandshakesAndRefusalsAreCounted()
    {
        var totals = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name is WireMetrics.MeterName or HttpMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var key = instrument.Name;
            foreach (var tag in tags)
            {
                key += $"|{tag.Key}={tag.Value}";
            }

            if (instrument.IsObservable)
            {
                totals[key] = value; // a running total, read when asked (RecordObservableInstruments)
            }
            else
            {
                totals.AddOrUpdate(key, value, (_, old) => old + value);
            }
        });
        listener.Start();
        listener.RecordObservableInstruments();
        var before = new Dictionary<string, long>(totals); // the process's counts from earlier tests

        await using var gateway = await InProcessGateway.StartAsync();
        using var client = CertificateFactory.IssueClient(gateway.Ca, "alice-laptop");
        using (var http = gateway.CreateClient(client))
        {
            (await http.GetAsync("/_gatehouse/whoami")).Dispose();
            (await http.GetAsync("/nowhere")).Dispose();
        }

        // A client without a certificate is refused in the handshake.
        using (var tcp = new TcpClient())
        {
            await tcp.ConnectAsync(System.Net.IPAddress.Loopback, gateway.Port);
            await using var tls = new SslStream(tcp.GetStream());
            try
            {
                await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions { TargetHost = "localhost", RemoteCertificateValidationCallback = (_, _, _, _) => true });
                _ = await tls.ReadAsync(new byte[1]);
            }
            catch (Exception ex) when (ex is IOException or System.Security.Authentication.AuthenticationException)
            {
            }
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Get(totals, "gatehouse.handshakes|result=refused|reason=no client certificate") < 1 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        listener.RecordObservableInstruments();
        Assert.True(Get(totals, "gatehouse.requests|status_class=2xx") - Get(before, "gatehouse.requests|status_class=2xx") >= 1);
        Assert.True(Get(totals, "gatehouse.requests|status_class=4xx") - Get(before, "gatehouse.requests|status_class=4xx") >= 1);
        Assert.True(Get(totals, "gatehouse.handshakes|result=ok|reason=") >= 1);
        Assert.True(Get(totals, "gatehouse.handshakes|result=refused|reason=no client certificate") >= 1);
        Assert.True(Get(totals, "gatehouse.response.body.bytes") > Get(before, "gatehouse.response.body.bytes"));
    }

    private static long Get(IReadOnlyDictionary<string, long> totals, string key) => totals.TryGetValue(key, out var value) ? value : 0;
}
