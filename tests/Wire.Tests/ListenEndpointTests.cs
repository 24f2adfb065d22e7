using System.Net;
using System.Net.NetworkInformation;
using Gatehouse.Wire;

namespace Gatehouse.Wire.Tests;

public sealed class ListenEndpointTests
{
    [Theory]
    [InlineData("::", "::")]
    [InlineData("0.0.0.0", "0.0.0.0")]
    [InlineData("127.0.0.1", "127.0.0.1")]
    [InlineData("::1", "::1")]
    [InlineData("[::1]", "::1")]
    [InlineData(" 127.0.0.1 ", "127.0.0.1")]
    [InlineData("fe80::1%7", "fe80::1%7")]
    public void ParsesAddresses(string text, string expected) =>
        Assert.Equal(IPAddress.Parse(expected), ListenEndpoint.ParseAddress(text));

    [Fact]
    public void ResolvesAnInterfaceNameToItsScopeId()
    {
        NetworkInterface? lo = NetworkInterface.GetAllNetworkInterfaces().FirstOrDefault(n => n.Name == "lo");
        if (lo is null || !lo.Supports(NetworkInterfaceComponent.IPv6))
        {
            return; // no IPv6 loopback interface named "lo" on this machine
        }

        IPAddress address = ListenEndpoint.ParseAddress("fe80::1%lo");

        Assert.Equal((long)lo.GetIPProperties().GetIPv6Properties().Index, address.ScopeId);
        Assert.Equal(IPAddress.Parse("fe80::1"), new IPAddress(address.GetAddressBytes()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("localhost")]
    [InlineData("8080")]
    [InlineData("127.1")]
    [InlineData("256.0.0.1")]
    [InlineData("1.2.3.4.5")]
    [InlineData("[::1")]
    [InlineData("fe80::1%")]
    [InlineData("fe80::1%no-such-interface0")]
    [InlineData("127.0.0.1%lo")]
    [InlineData("::g")]
    public void RejectsWhatIsNotAnAddress(string text)
    {
        FormatException error = Assert.Throws<FormatException>(() => ListenEndpoint.ParseAddress(text));
        Assert.NotEmpty(error.Message);
    }

    [Fact]
    public void UnknownInterfaceIsNamedInTheError() =>
        Assert.Contains("no-such-interface0", Assert.Throws<FormatException>(() => ListenEndpoint.ParseAddress("fe80::1%no-such-interface0")).Message);

    [Fact]
    public void RefusesAPlainListenerOnAnyAddress()
    {
        var endpoint = new ListenEndpoint { Address = IPAddress.Any, Port = 8080, Tls = false };

        InvalidOperationException error = Assert.Throws<InvalidOperationException>(endpoint.Validate);
        Assert.Equal("plain-HTTP listener 0.0.0.0:8080 must bind a loopback address", error.Message);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.2")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    public void AllowsAPlainListenerOnLoopback(string address) =>
        new ListenEndpoint { Address = IPAddress.Parse(address), Tls = false }.Validate();

    [Theory]
    [InlineData("::")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("fe80::1")]
    public void RefusesAPlainListenerOffLoopback(string address) =>
        Assert.Throws<InvalidOperationException>(new ListenEndpoint { Address = IPAddress.Parse(address), Tls = false }.Validate);

    [Fact]
    public void AllowsTlsOnAnyAddress() => new ListenEndpoint { Address = IPAddress.IPv6Any, Port = 8443 }.Validate();

    [Fact]
    public void RefusesAPortOutOfRange() =>
        Assert.Throws<InvalidOperationException>(new ListenEndpoint { Address = IPAddress.Loopback, Port = 70000 }.Validate);

    [Fact]
    public void PrintsIPv6InBrackets() =>
        Assert.Equal("[::1]:8443", new ListenEndpoint { Address = IPAddress.IPv6Loopback, Port = 8443 }.ToString());
}
