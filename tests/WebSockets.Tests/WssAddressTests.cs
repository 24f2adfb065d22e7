using System.Net;
using Gatehouse.Http1.WebSockets;

namespace Gatehouse.WebSockets.Tests;

public sealed class WssAddressTests
{
    [Theory]
    [InlineData("wss://127.0.0.1:8443/feed?x=1", "127.0.0.1", 8443, "/feed?x=1", "127.0.0.1:8443")]
    [InlineData("wss://[::1]/", "::1", 443, "/", "[::1]")]
    [InlineData("wss://gate.local:9000", "gate.local", 9000, "/", "gate.local:9000")]
    [InlineData("wss://[fe80::1%251]:8443/s", "fe80::1%1", 8443, "/s", "[fe80::1]:8443")]
    [InlineData("WSS://127.0.0.1?q", "127.0.0.1", 443, "/?q", "127.0.0.1")]
    public void ParsesTheAddressForms(string url, string host, int port, string path, string hostHeader)
    {
        var address = WssAddress.Parse(new Uri(url));
        Assert.Equal(host, address.Host);
        Assert.Equal(port, address.Port);
        Assert.Equal(path, address.PathAndQuery);
        Assert.Equal(hostHeader, address.HostHeader);
    }

    [Fact]
    public void KeepsTheZoneOfALinkLocalLiteral()
    {
        var address = WssAddress.Parse(new Uri("wss://[fe80::1%252]:8443/"));
        Assert.Equal(2u, (uint)address.Literal!.ScopeId);
        Assert.True(address.Literal.IsIPv6LinkLocal);
    }

    [Theory]
    [InlineData("wss://[fe80::1%25nosuchif0]:1/")]
    [InlineData("wss://127.0.0.1:0/")]
    [InlineData("wss://user@127.0.0.1/")]
    public void RefusesBadAddresses(string url) => Assert.Throws<ArgumentException>(() => WssAddress.Parse(new Uri(url)));

    [Fact]
    public void NoLiteralForAName() => Assert.Null(WssAddress.Parse(new Uri("wss://localhost/")).Literal);

    [Fact]
    public void ParsesIPv4Literals() => Assert.Equal(IPAddress.Loopback, WssAddress.Parse(new Uri("wss://127.0.0.1/")).Literal);
}
