using Gatehouse.Observability;

namespace Gatehouse.Tests;

/// <summary>The text exposition format 0.0.4 details a scraper is strict about.</summary>
public sealed class PrometheusTextTests
{
    [Fact]
    public void RendersNamesTypesLabelsAndEscapes()
    {
        var text = PrometheusText.Render(
        [
            new InstrumentSnapshot("gatehouse.handshakes", "TLS handshakes\\by result", null, SeriesKind.Counter,
            [
                new SeriesValue([new("result", "refused"), new("reason", "say \"no\"\nnow")], 3, 3),
                new SeriesValue([new("result", "ok"), new("reason", "")], 5, 5),
            ]),
            new InstrumentSnapshot("gatehouse.connections.open", null, null, SeriesKind.Gauge, [new SeriesValue([], -1, 2)]),
            new InstrumentSnapshot("gatehouse.upstream.wait", "Waits", "s", SeriesKind.Histogram, [new SeriesValue([], 1.5, 4)]),
        ]);

        Assert.Equal(
            "# TYPE gatehouse_connections_open gauge\n" +
            "gatehouse_connections_open -1\n" +
            "# HELP gatehouse_handshakes_total TLS handshakes\\\\by result\n" +
            "# TYPE gatehouse_handshakes_total counter\n" +
            "gatehouse_handshakes_total{result=\"ok\",reason=\"\"} 5\n" +
            "gatehouse_handshakes_total{result=\"refused\",reason=\"say \\\"no\\\"\\nnow\"} 3\n" +
            "# HELP gatehouse_upstream_wait Waits\n" +
            "# TYPE gatehouse_upstream_wait summary\n" +
            "gatehouse_upstream_wait_sum 1.5\n" +
            "gatehouse_upstream_wait_count 4\n",
            text);
    }

    [Theory]
    [InlineData("gatehouse.requests", "gatehouse_requests")]
    [InlineData("9lives-x", "_lives_x")]
    [InlineData("a:b", "a:b")]
    public void MetricNamesAreSanitized(string name, string expected) =>
        Assert.Equal(expected, PrometheusText.MetricName(name));
}
